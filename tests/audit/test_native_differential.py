"""Differential: every distinct audit of cis-1.8..1.12 and cis-1.20..1.24, real /bin/sh vs native.

Runs inside a hermetic kubeadm-like node (``hermetic_node.py``) in a private
mount+PID namespace; outputs and exit statuses must be byte-identical.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kubecis.audit.native.corpus import distinct, load_corpus
from tests.realtools import AUDIT_TOOLS, why_not_real
from tests.shared import COMPAT as SHARED_COMPAT

CFG = SHARED_COMPAT / "cfg"
SETS = ["cis-1.8", "cis-1.9", "cis-1.10", "cis-1.11", "cis-1.12", "cis-1.20", "cis-1.23", "cis-1.24"]
HERE = Path(__file__).parent

# Extra scripts exercising error paths and less common forms on the same node.
EXTRA = [
    "stat -c %a /nonexistent /etc/kubernetes/admin.conf",
    "stat -c '%U:%G %n' /etc/kubernetes/pki/etcd/peer.key /var/lib/etcd",
    "cat /etc/kubernetes /nonexistent; echo rc=$?",
    "find /nonexistent /etc/kubernetes/enc -type f",
    "find /etc/kubernetes/pki -maxdepth 1 -type f ! -name '*.key' -exec stat -c '%a %n' {} \\;",
    "find /etc/kubernetes/pki -name '*.key' -exec stat -c 'permissions=%a %n' {} +",
    "find /etc/kubernetes/pki -perm -644 -type f | sort",
    "printf '' | xargs stat -c %a",
    "echo '\"a b' | xargs echo",
    "ps -ef | grep kube-apiserver | grep -o -- '--profiling=[a-z]*'",
    "ps -C etcd -o pid=,cmd= | tr -s ' ' | cut -d' ' -f3",
    "ps -fC kube-controller-manager",
    "ps -fC",
    "grep -c . /etc/kubernetes/manifests/etcd.yaml /var/lib/kubelet/config.yaml",
    "grep -E 'anonymous|webhook' -A1 /var/lib/kubelet/config.yaml",
    "grep -w 'enabled' /var/lib/kubelet/config.yaml | head -n 1",
    "grep -i READONLYPORT /var/lib/kubelet/config.yaml; grep -q nothing /var/lib/kubelet/config.yaml; echo $?",
    "grep 'a\\)' /var/lib/kubelet/config.yaml; echo $?",
    "awk -F: '{print $1}' /var/lib/kubelet/config.yaml | sort | uniq | wc -l",
    "sed -n '2p;$p' /var/lib/kubelet/config.yaml",
    "sed 's/: /=/g' /var/lib/kubelet/config.yaml | tail -n 3",
    "cat /var/lib/kubelet/config.yaml | head -3 | tr 'a-z' 'A-Z'",
    "for f in /etc/kubernetes/*.conf; do basename $f .conf; dirname $f; done",
    "if [ -d /var/lib/etcd ] && [ ! -f /var/lib/etcd ]; then echo dir; elif true; then echo no; fi",
    "test 1 -gt 2 || echo smaller; [ abc = abc ] && echo same; [ -z \"\" ] && echo empty",
    "test -z a b; echo $?; [ a; echo $?; test 1 -eq x; echo $?",
    "V=${UNSET:-default}; echo $V ${V:+set} \"${EMPTY-}\"",
    "echo 'a\\tb'; printf '%s-%d\\n' x 3 y 4",
    "/bin/sh -c 'echo inner $0; exit 3'; echo $?",
    "stat -c %a /etc/kubernetes/pki/*.crt /etc/kubernetes/pki/none*.pem",
    "cat /proc/$(ps -C kubelet -o pid= | tr -d ' ')/cmdline | tr '\\0' ' '",
    "ps -ef | grep etcd | grep -- --data-dir | sed 's%.*data-dir[= ]\\([^ ]*\\).*%\\1%' | xargs stat -c %U:%G",
    "find /var/lib/cni/networks -type f ! -name lock 2> /dev/null | xargs --no-run-if-empty stat -c %a",
    "stat -L -c %a /etc/kubernetes/pki/ca-link.crt; stat -c %a /etc/kubernetes/pki/ca-link.crt",
    "stat -c %U /etc/cni/net.d/10-calico.conflist; ps -o user= -C kube-proxy",
]


def _scripts() -> list[str]:
    return distinct(load_corpus(str(CFG), SETS), automated_only=False) + EXTRA


def _unshare_available() -> str | None:
    if os.geteuid() != 0:
        return "needs root for unshare -m -p"
    for tool in ("unshare", "gcc", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} not installed"
    why = why_not_real("sh", *AUDIT_TOOLS)  # what the audits run in the node: the host's /bin/sh and tools
    return f"not the real tool: {why}" if why else None


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    reason = _unshare_available()
    if reason:
        pytest.skip(reason)
    if not CFG.is_dir():
        pytest.skip(f"{CFG} not present")
    d = tmp_path_factory.mktemp("hermetic")
    src, dst = d / "in.json", d / "out.json"
    src.write_text(json.dumps(_scripts()))
    subprocess.run(
        ["unshare", "-m", "-p", "-f", "--mount-proc", sys.executable, str(HERE / "hermetic_node.py"), str(src),
         str(dst)],
        check=True,
        timeout=300,
    )
    data: list[dict[str, Any]] = json.loads(dst.read_text())
    return data


def _ran(r: dict[str, Any]) -> bool:
    """Ran to the end: not declined. A name stat could not resolve (UNKNOWN, a WARN reason) still ran."""
    return not r["native"]["not_run"] or r["native"]["not_run"].startswith("cannot resolve ")


def test_identical_output_and_status(results: list[dict[str, Any]]) -> None:
    mismatches = []
    for r in results:
        if not _ran(r):
            continue
        sh, na = r["shell"], r["native"]
        if (sh["output"], sh["returncode"]) != (na["output"], na["returncode"]):
            mismatches.append((r["script"], sh, na))
    assert not mismatches, "\n\n".join(f"{s!r}\n shell:  {a!r}\n native: {b!r}" for s, a, b in mismatches[:10])


def test_host_audits_all_run_natively(results: list[dict[str, Any]]) -> None:
    """Every audit that does not need the Kubernetes API runs natively."""
    not_run = [
        (r["script"], r["native"]["not_run"])
        for r in results
        if not _ran(r) and "kubectl" not in r["script"]
    ]
    assert not not_run, not_run
    ran = [r for r in results if _ran(r)]
    assert len(ran) >= 75
    # the node is really populated: most audits produce output
    assert sum(1 for r in ran if r["native"]["output"]) >= 60

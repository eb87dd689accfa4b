"""Values from the host are never code (issue 9 item 1).

A kubelet, etcd and kube-proxy run with hostile paths on their command lines (shell metacharacters,
quotes, command substitution, a newline, a leading '-'). kubecis takes those flags' values as the
component's files (kube-bench #1256), so before they were pasted unquoted into kube-bench's audits and run
by /bin/sh as root. Under every executor, with kube-bench's own definitions and with the bundled ones,
no injected command runs and every check that would have used such a value is WARN naming the variable.
"""

from __future__ import annotations

import functools
import json
import shlex
from typing import Any

import pytest

from kubecis.benchmark.variables import unsafe_reason

from .node import NodeSpec, Process, hermetic, run_in_node
from .nodes import kubeadm_defaults
from .paths import COMPAT, KUBECIS

pytestmark = [hermetic, pytest.mark.usefixtures("need_node_and_compat")]

MARK = "/var/lib/kubelet/pwned"  # inside the node's overlay: never the host's file system

# variable → (component process, flag, hostile value)
HOSTILE: dict[str, tuple[str, str, str]] = {
    "$kubeletconf": ("kubelet", "--config", f"/var/lib/kubelet/config.yaml;touch {MARK}-semicolon"),
    "$kubeletkubeconfig": ("kubelet", "--kubeconfig", f"/etc/kubernetes/kubelet.conf$(touch {MARK}-dollar)"),
    "$kubeletcafile": ("kubelet", "--client-ca-file", f"/etc/kubernetes/pki/ca.crt'`touch {MARK}-backtick`'"),
    "$etcddatadir": ("etcd", "--data-dir", f'/var/lib/etcd"; touch {MARK}-dquote; "'),
    "$proxyconf": ("kube-proxy", "--config", f"/var/lib/kube-proxy/config.conf\ntouch {MARK}-newline"),
    "$proxykubeconfig": ("kube-proxy", "--kubeconfig", "-delete"),
}

RUNS = {
    "kube-bench native": f"-D {COMPAT / 'cfg'} --benchmark cis-1.12 --executor native",
    "kube-bench shell": f"-D {COMPAT / 'cfg'} --benchmark cis-1.12 --executor shell",
    "kube-bench auto": f"-D {COMPAT / 'cfg'} --benchmark cis-1.12",
    "kube-bench auto --allow-shell": f"-D {COMPAT / 'cfg'} --benchmark cis-1.12 --allow-shell",
    "bundled auto --allow-shell": "--benchmark cis-1.12 --allow-shell",
    "bundled shell": "--benchmark cis-1.12 --executor shell",
}


def hostile_node() -> NodeSpec:
    spec = kubeadm_defaults("1.33")
    procs = []
    for name in ("kubelet", "etcd", "kube-proxy"):
        p = spec.process(name)
        flags = {flag: value for comp, flag, value in HOSTILE.values() if comp == name}
        argv = tuple(a for a in p.argv if not any(a == f or a.startswith(f + "=") for f in flags))
        procs.append(Process(p.name, argv + tuple(f"{f}={v}" for f, v in flags.items()), p.env, p.exe))
    return spec.with_processes(*procs)


@functools.cache
def results() -> tuple[dict[str, Any], str, str]:
    """Every run in ONE node; then which marker files exist (the control one must)."""
    script = [f"{KUBECIS} run {args} --json; echo" for args in RUNS.values()]
    # control: the same kind of value pasted into a shell by hand does run, so the markers would show it
    script.append(f"/bin/sh -c {shlex.quote('test -e /x;touch ' + MARK + '-control')}")
    script.append(f"echo MARKERS: {MARK}*")
    res = run_in_node(hostile_node(), ["/bin/sh", "-c", "\n".join(script)], timeout=600)
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    assert len(lines) == len(RUNS) + 1, res.stderr
    docs = {name: json.loads(line) for name, line in zip(RUNS, lines, strict=False)}
    return docs, lines[-1], res.stderr


def checks(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every check result, with ``reason`` always present (kube-bench's JSON omits it when empty)."""
    return [{"reason": "", **c} for ctl in doc["Controls"] for g in ctl["tests"] or [] for c in g["results"]]


def test_the_hostile_values_are_refused_by_the_rule() -> None:
    for _comp, _flag, value in HOSTILE.values():
        assert unsafe_reason(value)


def test_no_injected_command_ran_under_any_executor() -> None:
    _, markers, _ = results()
    assert markers == f"MARKERS: {MARK}-control"  # only the control command created its file


@pytest.mark.parametrize("run", sorted(RUNS))
def test_checks_using_a_refused_value_are_warn_naming_it(run: str) -> None:
    docs, _, _ = results()
    refused_seen: dict[str, int] = {}
    for c in checks(docs[run]):
        used = [v for v in HOSTILE if v in c["audit"] or v in c.get("AuditConfig", "") or v in c.get("AuditEnv", "")]
        for var in used:
            assert c["status"] in ("WARN", "INFO"), (run, c["test_number"], c["status"], c["reason"])
            if c["reason"].startswith(("Test marked as", "There are no tests")):
                continue
            assert f"{var} not substituted: the running " in c["reason"], (run, c["test_number"], c["reason"])
            refused_seen[var] = refused_seen.get(var, 0) + 1
        for _comp, _flag, value in HOSTILE.values():  # never pasted into what runs or what is shown as fixed
            assert value not in c["audit"] and value not in c["remediation"], (run, c["test_number"])
    # every refused variable that this set's audits use was refused with its reason at least once
    assert {"$kubeletconf", "$kubeletkubeconfig", "$etcddatadir", "$proxykubeconfig"} <= set(refused_seen), run


def test_reason_names_the_flag_and_the_character() -> None:
    docs, _, _ = results()
    reasons = {c["reason"] for c in checks(docs["kube-bench shell"]) if "not substituted" in c["reason"]}
    assert any(r.startswith('$kubeletconf not substituted: the running kubelet\'s --config is '
                            '"/var/lib/kubelet/config.yaml;touch /var/lib/kubelet/pwned-semicolon"; it contains '
                            '" " ";"') for r in reasons), reasons
    assert any(r.startswith("$proxykubeconfig not substituted: the running proxy's --kubeconfig is \"-delete\"; "
                            "it starts with \"-\"") for r in reasons), reasons


def test_plain_paths_on_the_same_node_are_still_used() -> None:
    """The rule refuses only the hostile values: the kubelet's plain --bootstrap-kubeconfig-free flags and the
    other components' files are discovered and checked as usual."""
    docs, _, stderr = results()
    statuses = {c["test_number"]: c["status"] for c in checks(docs["kube-bench shell"])}
    assert statuses["1.1.1"] == "PASS"  # apiserver manifest permissions: a candidate path, substituted
    assert "Traceback" not in stderr

"""Fuzzing, no-exec guarantee and coverage of the native executor."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecis.audit.base import AuditResult
from kubecis.audit.native import NativeExecutor, unsupported_reason
from kubecis.audit.native.corpus import distinct, load_corpus
from kubecis.audit.native.coverage import coverage
from kubecis.host.live import LiveHost
from tests.shared import COMPAT as SHARED_COMPAT

CFG = SHARED_COMPAT / "cfg"
needs_cfg = pytest.mark.skipif(not CFG.is_dir(), reason="kube-bench cfg not present")

_TOKENS = ["if ", "then ", "fi", "do", "done", "for ", "in ", "stat -c %a ", "grep ", "ps -ef", "/bin/sh -c ",
           "2>&1", "&&"]
_ALPHABET = st.sampled_from([*"ab $(){}[]|&;<>'\"\\`\n\t=*?!#-0129", *_TOKENS])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_fuzz_never_raises(script: str) -> None:
    r = NativeExecutor(LiveHost()).run(script)
    assert isinstance(r, AuditResult)
    assert r.executor == "native"
    unsupported_reason(script)  # must not raise either


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_arbitrary_text(script: str) -> None:
    assert isinstance(NativeExecutor(LiveHost()).run(script), AuditResult)


def test_unsupported_is_not_run() -> None:
    r = NativeExecutor(LiveHost()).run("gcloud container clusters list | wc -l")
    assert r.not_run == "audit not supported natively: command gcloud"
    assert NativeExecutor(LiveHost()).run("echo $((x = 1))").not_run.startswith("audit not supported natively")
    assert NativeExecutor(LiveHost()).run("cat <<E\nx\nE").not_run.startswith("audit not supported natively")
    assert unsupported_reason("systemctl is-active k3s | grep x") == "command systemctl"
    assert unsupported_reason("stat -c %a /etc/passwd") is None
    assert NativeExecutor(LiveHost()).run("   ").output == ""


@needs_cfg
def test_coverage_numbers() -> None:
    entries = load_corpus(str(CFG))
    for bench in ("cis-1.8", "cis-1.20", "cis-1.23", "cis-1.24"):
        ok, total, bad = coverage(distinct(e for e in entries if e.benchmark == bench))
        # the only audit not run natively needs the Kubernetes API (kubectl)
        assert all("kubectl" in s or "command kubectl" in r for s, r in bad), bad
        assert ok >= total - 1
    for bench in ("cis-1.9", "cis-1.10", "cis-1.11", "cis-1.12"):
        _, _, bad = coverage(distinct(e for e in entries if e.benchmark == bench))
        assert all("kubectl" in s for s, _ in bad), bad


@needs_cfg
@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_no_process_spawned(tmp_path: Path) -> None:
    scripts = distinct(load_corpus(str(CFG)), automated_only=False)
    (tmp_path / "s.json").write_text(json.dumps(scripts))
    prog = (
        "import json,sys\n"
        "from kubecis.audit.native import NativeExecutor\n"
        "from kubecis.host.live import LiveHost\n"
        "e=NativeExecutor(LiveHost())\n"
        f"for s in json.load(open({str(tmp_path / 's.json')!r})): e.run(s)\n"
    )
    log = tmp_path / "trace"
    subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=execve,execveat,fork,vfork,clone,clone3", "-o", str(log),
         sys.executable, "-c", prog],
        check=True,
        timeout=600,
    )
    lines = [ln for ln in log.read_text().splitlines() if ln.strip()]
    calls = [re.match(r"\d+\s+(\w+)\(", ln) for ln in lines]  # "PID  syscall(args...": the name, not the args
    names = [m.group(1) for m in calls if m]
    assert names.count("execve") + names.count("execveat") == 1, lines
    assert not [n for n in names if n in ("fork", "vfork", "clone", "clone3")], lines

"""Every bundled set runs with --executor native and starts no process (counted with strace -f)."""

from __future__ import annotations

import json
import shutil

import pytest

from kubecis.benchmark import bundled

from .node import hermetic, run_in_node, skip_unless_hermetic
from .nodes import kubeadm_misconfigured
from .paths import KUBECIS

pytestmark = hermetic


def test_every_bundled_set_runs_natively_without_a_process() -> None:
    skip_unless_hermetic()
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace not installed")
    names = bundled.bundled_names()
    script = "\n".join(
        f"{strace} -f -qq -e trace=execve,fork,vfork -o /tmp/kubecis-trace-{n} {KUBECIS} run --benchmark {n} "
        f"--executor native --json && echo; grep -c . /tmp/kubecis-trace-{n}"
        for n in names
    )
    res = run_in_node(kubeadm_misconfigured(), ["/bin/sh", "-c", script], timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    assert len(lines) == 2 * len(names)
    for name, doc_line, count in zip(names, lines[0::2], lines[1::2], strict=True):
        doc = json.loads(doc_line)
        checks = [c for x in doc["Controls"] for g in x["tests"] or [] for c in g["results"]]
        assert checks, name
        # one execve: the kubecis console script itself (its interpreter is exec'd by the kernel, not by a
        # second execve); no fork at all
        assert int(count) == 1, (name, count)

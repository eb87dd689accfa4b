"""Regenerate the packaged example snapshot (`kubecis demo`, `kubecis run --snapshot example`).

    sudo python -m tests.hermetic.example_snapshot     # from the repository root

It records the bundled definitions, natively, on the hermetic kubeadm control-plane node with the
documented weaknesses (tests/hermetic/nodes.py: kubeadm_misconfigured), with the cluster's API objects
taken from the dump tests/policies/fixtures/example-cluster.yaml (`snapshot record --objects`), so the
policies checks replay real verdicts and evidence. Re-run it whenever the bundled sets change which files,
processes or API objects they look at; tests/cli/test_demo.py fails when it is stale.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .node import run_in_node
from .nodes import kubeadm_misconfigured
from .paths import KUBECIS

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "src" / "kubecis" / "data" / "examples" / "kubeadm-control-plane.snap"
OBJECTS = REPO / "tests" / "policies" / "fixtures" / "example-cluster.yaml"


def record(dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "example.snap"
        res = run_in_node(kubeadm_misconfigured(), [str(KUBECIS), "snapshot", "record", "-o", str(out),
                                                    "--objects", str(OBJECTS)])
        if res.returncode != 0:
            raise SystemExit(res.stderr)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(out.read_bytes())
        sys.stdout.write(res.stdout)


if __name__ == "__main__":
    record(TARGET)

"""`kubecis run` (the node path) never imports the profile or seccomp packages; `kubecis profile` does not
pull in the benchmark machinery."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from kubecis.cli.main import build_parser
build_parser(sys.argv[1:])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("kubecis."))))
"""


def _modules(*args: str) -> list[str]:
    r = subprocess.run([sys.executable, "-B", "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    mods: list[str] = json.loads(r.stdout)
    return mods


@pytest.mark.parametrize("command", ["run", "node", "master"])
def test_node_run_does_not_import_profiles(command: str) -> None:
    mods = _modules(command)
    assert "kubecis.cli.run" in mods  # the probe sees real imports
    assert not [m for m in mods if m.startswith(("kubecis.profile", "kubecis.seccomp", "kubecis.cli.profile"))]


def test_profile_command_is_lean() -> None:
    mods = _modules("profile")
    assert "kubecis.cli.profile" in mods
    assert not [m for m in mods if m.startswith(("kubecis.benchmark", "kubecis.audit", "kubecis.host"))]

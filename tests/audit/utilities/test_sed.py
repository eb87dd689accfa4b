"""`sed ADDR!cmd` (address negation) natively, compared with the real GNU sed."""

from __future__ import annotations

import subprocess

import pytest

from kubecis.audit.native import NativeExecutor
from kubecis.host.live import LiveHost
from tests.realtools import needs_real

SCRIPTS = [
    "printf 'a false\\nb true\\nc\\n' | sed -e 's/ false$/ is_compliant: true/' "
    "-e '/is_compliant/!s/$/ is_compliant: false/'",
    "printf 'x\\ny\\n' | sed '/x/!d'",
    "printf 'x\\ny\\nz\\n' | sed '2!s/^/N/'",
    "printf 'x\\ny\\n' | sed '$! s/$/,/'",
    "printf 'x\\ny\\n' | sed -n '/y/!p'",
]


@needs_real("sh", "sed")
@pytest.mark.parametrize("script", SCRIPTS)
def test_same_as_gnu_sed(script: str) -> None:
    real = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, check=False)
    ours = NativeExecutor(LiveHost()).run(script)
    assert ours.not_run == ""
    assert (ours.output, ours.returncode) == (real.stdout + real.stderr, real.returncode)

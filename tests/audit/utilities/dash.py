"""One-line utility cases, each run by the native interpreter and by the real /bin/sh with the real tools.

A test module per utility lists its cases (``CASES``: one shell line each) and calls :func:`same_as_dash`;
both sides must print the same bytes (stdout and stderr together, in order) and exit with the same status.
"""

from __future__ import annotations

import subprocess

from kubecis.audit.native import NativeExecutor
from kubecis.host.live import LiveHost
from tests.realtools import AUDIT_TOOLS, needs_real

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
needs_dash = needs_real("sh", *AUDIT_TOOLS)


def real(script: str) -> tuple[str, int]:
    p = subprocess.run(["/bin/sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=ENV,
                       cwd="/", check=False)
    return p.stdout.decode(), p.returncode


def native(script: str) -> tuple[str, int] | None:
    r = NativeExecutor(LiveHost(), env=ENV).run(script)
    if r.not_run:
        return None
    return r.output, r.returncode


def same_as_dash(script: str) -> None:
    n = native(script)
    assert n is not None, NativeExecutor(LiveHost(), env=ENV).run(script).not_run
    assert n == real(script)

"""Shared fixtures for the seccomp tests: real processes, real strace, real kernel filters.

Tests that need ptrace or seccomp skip with the reason when the probe fails; the pure
tests never skip.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


@functools.cache
def _ptrace_problem() -> str | None:
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed"
    r = subprocess.run([strace, "-f", "-o", "/dev/null", "--", "/bin/true"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"ptrace is not permitted here: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r}"
    return None


@functools.cache
def _seccomp_problem() -> str | None:
    status = Path("/proc/self/status").read_text()
    if "Seccomp:" not in status:
        return "kernel has no seccomp support"
    try:
        from kubecis.seccomp import libseccomp

        libseccomp.lib()
    except Exception as e:  # SeccompError: library missing
        return f"libseccomp unavailable: {e}"
    return None


@pytest.fixture(scope="session")
def needs_ptrace() -> None:
    problem = _ptrace_problem()
    if problem:
        pytest.skip(problem)


@pytest.fixture(scope="session")
def needs_seccomp() -> None:
    problem = _seccomp_problem()
    if problem:
        pytest.skip(problem)


@pytest.fixture
def py() -> str:
    """The interpreter running the tests; -B in commands keeps runs free of .pyc writes."""
    return sys.executable

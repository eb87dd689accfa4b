"""Fixtures for the runtime-profile tests: real strace, real Landlock and seccomp in the kernel.

Tests that need ptrace, seccomp or Landlock skip with the reason when the probe fails; the pure tests
never skip.
"""

from __future__ import annotations

import functools

import pytest

# the seccomp tests' probes and fixtures, shared: same kernel, same strace
from tests.seccomp.conftest import needs_ptrace, needs_seccomp, py

__all__ = ["needs_landlock", "needs_ptrace", "needs_seccomp", "py"]


@functools.cache
def _landlock_problem() -> str | None:
    from kubecis.profile import landlock

    if landlock.kernel_abi() < 1:
        return landlock.kernel_abi_reason()
    return None


@pytest.fixture(scope="session")
def needs_landlock() -> None:
    problem = _landlock_problem()
    if problem:
        pytest.skip(problem)

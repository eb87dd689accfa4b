"""Fixtures for the runtime-profile tests: real strace, real Landlock and seccomp in the kernel.

Tests that need ptrace, seccomp or Landlock skip with the reason when the probe fails; the pure tests
never skip.
"""

from __future__ import annotations

import functools
import sys

import pytest

from tests.seccomp.conftest import _ptrace_problem, _seccomp_problem


@functools.cache
def _landlock_problem() -> str | None:
    from kubecis.profile import landlock

    if landlock.kernel_abi() < 1:
        return landlock.kernel_abi_reason()
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


@pytest.fixture(scope="session")
def needs_landlock() -> None:
    problem = _landlock_problem()
    if problem:
        pytest.skip(problem)


@pytest.fixture
def py() -> str:
    return sys.executable

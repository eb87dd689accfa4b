"""Shared fixtures: where kube-bench's compatibility data lives, and an in-memory host."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMPAT = (REPO.parent / "shared" / "compat" / "kube-bench").resolve()
CFG = COMPAT / "cfg"


@pytest.fixture(scope="session")
def compat() -> Path:
    if not CFG.is_dir():
        pytest.skip(f"kube-bench compatibility data not found at {COMPAT}")
    return COMPAT


@pytest.fixture(scope="session")
def cfg_dir(compat: Path) -> Path:
    return compat / "cfg"

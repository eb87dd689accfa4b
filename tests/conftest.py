"""Shared fixtures: where kube-bench's compatibility data lives, and an in-memory host."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dbs import pg_url, store_url  # noqa: F401  (fixtures: a PostgreSQL database, SQLite and PostgreSQL)
from tests.shared import CFG, COMPAT, REPO

__all__ = ["CFG", "COMPAT", "REPO"]


@pytest.fixture(scope="session")
def compat() -> Path:
    if not CFG.is_dir():
        pytest.skip(f"kube-bench compatibility data not found at {COMPAT}")
    return COMPAT


@pytest.fixture(scope="session")
def cfg_dir(compat: Path) -> Path:
    return compat / "cfg"

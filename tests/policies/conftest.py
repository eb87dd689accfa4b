from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared import SHARED

FIXTURES = SHARED / "compat" / "policy-fixtures"
PSS = FIXTURES / "pss"
REGO = FIXTURES / "regolibrary"
EXAMPLE = Path(__file__).resolve().parent / "fixtures" / "example-cluster.yaml"


def need(path: Path) -> Path:
    if not path.is_dir():
        pytest.skip(f"policy fixtures not found at {path}")
    return path

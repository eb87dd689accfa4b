"""``head``: GNU head."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "printf '1\\n2\\n3\\n' | head -n 2",
    "printf '1\\n2\\n3\\n' | head -1",
    "head -n 1 /nonexistent; echo rc=$?",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

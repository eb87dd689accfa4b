"""``find``: GNU find in the forms audits use."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "find /etc/hostname",
    "find /etc/nonexistent; echo rc=$?",
    "find /etc -maxdepth 1 -name hostname -type f",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

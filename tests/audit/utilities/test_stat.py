"""``stat``: GNU stat -c."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "stat -c %a /etc/passwd",
    "stat -c '%U:%G %n' /etc/passwd",
    "stat -c %F /etc",
    "stat -c %a /nonexistent; echo rc=$?",
    "stat -L -c %a /etc/passwd",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

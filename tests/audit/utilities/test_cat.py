"""``cat``: GNU cat's output and error messages."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "cat /etc/hostname; echo rc=$?",
    "cat /nonexistent; echo rc=$?",
    "cat /etc; echo rc=$?",
    "printf 'a\\nb' | cat - /etc/hostname",
    "cat -u /etc/hostname",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

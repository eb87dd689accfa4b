"""``tr``: GNU tr."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "echo abc | tr a-z A-Z",
    "echo 'a  b' | tr -s ' '",
    "echo abc | tr -d b",
    "printf 'a\\0b' | tr '\\0' '\\n'",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

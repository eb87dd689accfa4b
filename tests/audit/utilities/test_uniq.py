"""``uniq``: GNU uniq."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "printf 'a\\na\\nb\\na\\n' | uniq",
    "printf 'a\\na\\nb\\n' | uniq -c",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

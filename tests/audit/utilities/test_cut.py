"""``cut``: GNU cut."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "echo a:b:c | cut -d: -f2",
    "echo a:b:c | cut -d: -f2-",
    "echo abcdef | cut -c2-4",
    "echo 'a b' | cut -d' ' -f1",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

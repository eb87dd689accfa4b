"""``sort``: GNU sort in the C locale."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "printf 'b\\na\\nc\\na\\n' | sort",
    "printf 'b\\na\\nc\\na\\n' | sort -u",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

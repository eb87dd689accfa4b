"""``printf``: ``/usr/bin/printf`` (GNU printf)."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "/usr/bin/printf '%s-%d\\n' x 3 y 4",
    "printf; echo rc=$?",
    "/usr/bin/printf '%5s|\\n' ab",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

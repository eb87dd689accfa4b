"""``echo``: ``/bin/echo`` (GNU echo, not the builtin)."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "/bin/echo a b",
    "/bin/echo -n a; /bin/echo",
    "/bin/echo -e 'a\\tb'",
    "/bin/echo -E 'a\\tb'",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

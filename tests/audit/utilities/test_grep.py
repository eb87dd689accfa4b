"""``grep``: the options audits use, byte for byte with GNU grep."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "echo basic-auth x | grep --color basic-auth; echo $?; echo a | grep --colour=auto -c a",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

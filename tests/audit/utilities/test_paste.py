"""``paste``: GNU paste's -s and -d, byte for byte with the real one."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "printf '' | paste -sd, -; printf 'a\\nb\\nc\\n' | paste -sd, -; printf 'a\\nb' | paste -sd ',;' -",
    "paste -s /nonexistent /etc/hostname; echo $?; printf 'x\\n' | paste -s - /etc/hostname",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

"""``xargs``: -L, -n and how lines split, byte for byte with GNU xargs."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "printf 'a b \\nc d\\n\\ne\\n' | xargs -L1 echo; printf 'a b\\nc\\n' | xargs -L 1 echo x",
    "printf '1\\n2 \\n3\\n4\\n5\\n' | xargs -L 2 echo; printf '' | xargs -L1 echo e\n"
    "printf 'a\\nb\\nc\\n' | xargs -n 2",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

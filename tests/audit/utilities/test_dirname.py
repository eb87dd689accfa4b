"""``dirname``: GNU dirname."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "dirname /etc/kubernetes/admin.conf",
    "dirname admin.conf",
    "dirname /",
    "dirname a/b/ c",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

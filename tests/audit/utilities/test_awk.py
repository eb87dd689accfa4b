"""``awk``: the small programs audits use, byte for byte with the real awk."""

from __future__ import annotations

import pytest

from tests.audit.utilities.dash import needs_dash, same_as_dash

CASES = [
    "printf 'NAME VERSION AVAILABLE\\nauthentication 4.6 True\\nx 1 0\\ny 1\\nz 1 0.0\\nv 2 -3\\n\\n' | awk "
    "'$3 != \"AVAILABLE\" { if ($3){print \"available=true\"}else{print \"available=false\"} }'",
    "printf 'a 1 x\\nb 0\\n\\nc 10 y\\n' | awk '$3 { print }'; printf 'a b\\nz y\\n' | awk '$1 < \"m\" { print $NF }'",
    "printf '1\\n10\\n9\\n' | awk '$1 >= 9 { print \"big\" $1 } '; echo rc=$?",
    "printf 'a 1\\nb 2\\n' | awk '$2 == 1 { print $1, \"one\" $2; print }'",
]


@needs_dash
@pytest.mark.parametrize("script", CASES, ids=lambda s: s[:50])
def test_same_as_dash(script: str) -> None:
    same_as_dash(script)

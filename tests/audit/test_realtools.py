"""The differential tests' guard: a stand-in on PATH is not taken for the real tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realtools import real_tool, why_not_real


def _script(d: Path, name: str, body: str) -> None:
    p = d / name
    p.write_text(f"#!/bin/sh\n{body}\n")
    p.chmod(0o755)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("kubectl", "echo 'Client Version: v1.33.0'"),  # the hermetic nodes' stand-in
        ("kubectl", 'echo \'{"clientVersion": {"gitVersion": "v1.33.0"}}\''),
        ("jq", "echo jq-1.6"),
        ("jq", "echo jq-1.7.1"),
        ("openssl", "echo 'LibreSSL 3.8.2'"),
        ("ps", "echo 'ps version 1.2 (busybox)'"),
        ("sed", "echo 'This is not GNU sed version 4.0'"),
        ("awk", "echo 'GNU Awk 5.2.1'"),
        ("stat", "echo 'BusyBox v1.36.1'"),
    ],
)
def test_a_stand_in_is_not_the_real_tool(tmp_path: Path, name: str, body: str) -> None:
    _script(tmp_path, name, body)
    assert real_tool(name, path=str(tmp_path)) is None
    assert why_not_real(name, path=str(tmp_path)).startswith(str(tmp_path / name))


def test_missing_tool(tmp_path: Path) -> None:
    assert real_tool("jq", path=str(tmp_path)) is None
    assert why_not_real("jq", path=str(tmp_path)) == "jq is not installed"

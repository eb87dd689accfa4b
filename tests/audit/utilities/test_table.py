"""The utilities table: every command has its module, and every module its test module here."""

from __future__ import annotations

from pathlib import Path

from kubecis.audit.native.utilities import UTILITIES, LazyUtility


def test_every_utility_has_a_test_module() -> None:
    here = Path(__file__).parent
    modules = {fn.module for fn in UTILITIES.values() if isinstance(fn, LazyUtility)}
    assert len(modules) >= 25
    missing = sorted(m for m in modules if not (here / f"test_{m}.py").is_file())
    assert missing == []

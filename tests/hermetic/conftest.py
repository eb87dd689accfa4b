"""Shared fixture for the hermetic tests that run kubecis against kube-bench's data."""

from __future__ import annotations

import pytest

from .node import skip_unless_hermetic
from .paths import COMPAT


@pytest.fixture
def need_node_and_compat() -> None:
    """Skip (with the reason) when no private node can be built or kube-bench's data is absent."""
    skip_unless_hermetic()
    if not (COMPAT / "cfg").is_dir():
        pytest.skip(f"kube-bench compat data not found at {COMPAT}")

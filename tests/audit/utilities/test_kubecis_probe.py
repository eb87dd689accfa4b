"""``kubecis probe NAME``: the native command checks its form statically (the probes' own results are tested in
tests/policies)."""

from __future__ import annotations

import pytest

from kubecis.audit.native import unsupported_reason

SUPPORTED = ["kubecis probe privileged-containers", "kubecis probe host-pid"]
DECLINED = ["kubecis version", "kubecis probe", "kubecis probe --list"]


@pytest.mark.parametrize("script", SUPPORTED)
def test_supported(script: str) -> None:
    assert unsupported_reason(script) is None


@pytest.mark.parametrize("script", DECLINED)
def test_declined(script: str) -> None:
    assert unsupported_reason(script) is not None

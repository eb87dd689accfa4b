"""No audit or remediation text in our data is kube-bench's text for the same check.

Exception, on purpose: an ``audit_config`` that is a single ``cat $<variable>`` (the only way to read
the config file whose "No such file or directory" error kube-bench's evaluation rules depend on).
"""

from __future__ import annotations

import re

import pytest

from kubecis.benchmark import bundled

from .conftest import ALL_SETS, load_kb

TRIVIAL_CONFIG = re.compile(r"cat \$\w+")


def norm(s: str) -> str:
    return s.strip()


@pytest.mark.parametrize("name", ALL_SETS)
def test_no_audit_or_remediation_copied(name: str) -> None:
    theirs = {(t, c.id): c for t, ctl in load_kb(name).items() for c in ctl.checks()}
    copied = []
    for t, c in bundled.get_set(name).checks():
        kb = theirs[(t, c.id)]
        for field in ("audit", "audit_env", "remediation", "audit_config"):
            mine, other = norm(getattr(c, field)), norm(getattr(kb, field))
            if not mine or mine != other:
                continue
            if field == "audit_config" and TRIVIAL_CONFIG.fullmatch(mine):
                continue
            copied.append((c.id, field, mine[:60]))
    assert copied == []


def test_no_kubectl_jq_or_awk_in_node_audits() -> None:
    for name in ALL_SETS:
        for t, c in bundled.get_set(name).checks():
            if t in ("master", "node", "etcd"):
                assert not re.search(r"\b(kubectl|jq|awk)\b", c.audit + c.audit_config), (name, c.id)

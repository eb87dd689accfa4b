"""Frozen models of a kube-bench controls file.

Definitions only: nothing here ever holds a result. Every scalar that kube-bench
reads into a Go string stays the raw YAML text (``5.10`` stays ``"5.10"``,
``0644`` stays ``"0644"``), as go-yaml v2 does.
"""

from __future__ import annotations

from dataclasses import field

from kubecis.records import dataclass


@dataclass(frozen=True, slots=True)
class Compare:
    op: str = ""
    value: str = ""


@dataclass(frozen=True, slots=True)
class TestItem:
    __test__ = False  # not a pytest class

    flag: str = ""
    path: str = ""
    env: str = ""
    set: bool = True
    compare: Compare = field(default_factory=Compare)

    @property
    def label(self) -> str:
        """The name kube-bench prints in expectations for this item's current source.

        Use :func:`kubecis.evaluate.evaluator` for the per-source label; this is the
        first non-empty of flag, path, env.
        """
        return self.flag or self.path or self.env


@dataclass(frozen=True, slots=True)
class Tests:
    __test__ = False

    bin_op: str = ""
    items: tuple[TestItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    text: str = ""
    type: str = ""
    audit: str = ""
    audit_config: str = ""
    audit_env: str = ""
    tests: Tests | None = None  # None: no `tests` key (or null); Tests(items=()) : present but empty
    remediation: str = ""
    scored: bool = False
    use_multiple_values: bool = False
    disable_env_testing: bool = False
    # kubecis's extension (YAML key ``fail_on_evidence``): an unscored check that kubecis decides from evidence
    # (CIS "Manual" checks answered by a probe or a parsed configuration file). Tests that fail make it FAIL,
    # not WARN; an audit that cannot decide still makes it WARN. kube-bench ignores the key.
    fail_on_evidence: bool = False
    line: int = 0  # 1-based line of the check in its file (0: unknown)
    # Set by variable substitution when a value from the host could not be pasted into this check's audits
    # or tests safely: the check is WARN with this reason and none of its audits runs.
    not_run: str = ""


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    text: str = ""
    type: str = ""
    checks: tuple[Check, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class Controls:
    """One controls file (one target: master, node, etcd, ...)."""

    id: str = ""
    version: str = ""
    text: str = ""
    type: str = ""
    groups: tuple[Group, ...] = ()
    source: str = ""  # path of the file it was loaded from

    def checks(self) -> list[Check]:
        return [c for g in self.groups for c in g.checks]

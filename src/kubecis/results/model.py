"""The results model. Every report format is a pure function of :class:`RunResult`.

States are kube-bench's four. Why a check did not PASS is always in ``reason``
(absent file, unreadable, not evaluated, audit error, timeout ...), never a silent
FAIL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    INFO = "INFO"


@dataclass(slots=True)
class CheckResult:
    id: str
    text: str
    audit: str = ""
    audit_env: str = ""
    audit_config: str = ""
    type: str = ""
    remediation: str = ""
    test_info: list[str] = field(default_factory=list)
    state: State = State.WARN
    actual_value: str = ""
    scored: bool = False
    is_multiple: bool = False
    expected_result: str = ""
    reason: str = ""
    # Not part of kube-bench's JSON: which executor ran the audits ("" if none ran).
    executor: str = ""

    def to_dict(self) -> dict[str, Any]:
        """kube-bench's JSON object for a check, in its field order."""
        d: dict[str, Any] = {
            "test_number": self.id,
            "test_desc": self.text,
            "audit": self.audit,
            "AuditEnv": self.audit_env,
            "AuditConfig": self.audit_config,
            "type": self.type,
            "remediation": self.remediation,
            "test_info": list(self.test_info),
            "status": self.state.value,
            "actual_value": self.actual_value,
            "scored": self.scored,
            "IsMultiple": self.is_multiple,
            "expected_result": self.expected_result,
        }
        if self.reason:
            d["reason"] = self.reason
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(
            id=str(d.get("test_number", "")),
            text=str(d.get("test_desc", "")),
            audit=str(d.get("audit", "")),
            audit_env=str(d.get("AuditEnv", "")),
            audit_config=str(d.get("AuditConfig", "")),
            type=str(d.get("type", "")),
            remediation=str(d.get("remediation", "")),
            test_info=[str(x) for x in (d.get("test_info") or [])],
            state=State(d.get("status", "WARN")),
            actual_value=str(d.get("actual_value", "")),
            scored=bool(d.get("scored", False)),
            is_multiple=bool(d.get("IsMultiple", False)),
            expected_result=str(d.get("expected_result", "")),
            reason=str(d.get("reason", "")),
        )


@dataclass(slots=True)
class Counts:
    pass_: int = 0
    fail: int = 0
    warn: int = 0
    info: int = 0

    def add(self, state: State) -> None:
        if state is State.PASS:
            self.pass_ += 1
        elif state is State.FAIL:
            self.fail += 1
        elif state is State.WARN:
            self.warn += 1
        else:
            self.info += 1

    def __iadd__(self, other: Counts) -> Counts:
        self.pass_ += other.pass_
        self.fail += other.fail
        self.warn += other.warn
        self.info += other.info
        return self

    @property
    def total(self) -> int:
        return self.pass_ + self.fail + self.warn + self.info


@dataclass(slots=True)
class GroupResult:
    id: str
    text: str
    checks: list[CheckResult] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.id,
            "type": "",
            "pass": self.counts.pass_,
            "fail": self.counts.fail,
            "warn": self.counts.warn,
            "info": self.counts.info,
            "desc": self.text,
            "results": [c.to_dict() for c in self.checks],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroupResult:
        return cls(
            id=str(d.get("section", "")),
            text=str(d.get("desc", "")),
            checks=[CheckResult.from_dict(c) for c in d.get("results") or []],
            counts=Counts(int(d.get("pass", 0)), int(d.get("fail", 0)), int(d.get("warn", 0)),
                          int(d.get("info", 0))),
        )


@dataclass(slots=True)
class ControlsResult:
    id: str
    version: str
    text: str
    node_type: str
    detected_version: str = ""
    groups: list[GroupResult] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "version": self.version}
        if self.detected_version:
            d["detected_version"] = self.detected_version
        d["text"] = self.text
        d["node_type"] = self.node_type
        d["tests"] = [g.to_dict() for g in self.groups] if self.groups else None
        d["total_pass"] = self.counts.pass_
        d["total_fail"] = self.counts.fail
        d["total_warn"] = self.counts.warn
        d["total_info"] = self.counts.info
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ControlsResult:
        return cls(
            id=str(d.get("id", "")),
            version=str(d.get("version", "")),
            text=str(d.get("text", "")),
            node_type=str(d.get("node_type", "")),
            detected_version=str(d.get("detected_version", "")),
            groups=[GroupResult.from_dict(g) for g in d.get("tests") or []],
            counts=Counts(int(d.get("total_pass", 0)), int(d.get("total_fail", 0)),
                          int(d.get("total_warn", 0)), int(d.get("total_info", 0))),
        )

    def sort_key(self) -> int:
        """kube-bench sorts controls by numeric id; non-numeric ids sort as 0."""
        try:
            return int(self.id)
        except ValueError:
            return 0


@dataclass(slots=True)
class RunResult:
    controls: list[ControlsResult] = field(default_factory=list)
    # Facts about the run that are not part of kube-bench's formats (benchmark, executor notes...).
    benchmark: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def totals(self) -> Counts:
        t = Counts()
        for c in self.controls:
            t += c.counts
        return t

    def sorted(self) -> RunResult:
        return RunResult(sorted(self.controls, key=ControlsResult.sort_key), self.benchmark, list(self.notes))

    def to_dict(self) -> dict[str, Any]:
        t = self.totals
        return {
            "Controls": [c.to_dict() for c in self.controls],
            "Totals": {"total_pass": t.pass_, "total_fail": t.fail, "total_warn": t.warn,
                       "total_info": t.info},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | list[Any]) -> RunResult:
        items = d if isinstance(d, list) else d.get("Controls") or []
        return cls([ControlsResult.from_dict(c) for c in items])

"""The results model. Every report format is a pure function of :class:`RunResult`.

States are kube-bench's four. Why a check did not PASS is always in ``reason``
(absent file, unreadable, not evaluated, audit error, timeout ...), never a silent
FAIL.

A waived check (see :mod:`kubecis.results.waivers`) is INFO in kube-bench's formats, with the waiver in
its ``reason``, and keeps the waiver and its original state in ``waiver``: kubecis's own formats show it as
``WAIVED`` (:attr:`CheckResult.status`) and count it apart (:class:`StatusCounts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import field, replace
from enum import StrEnum
from typing import Any

from kubecis.records import dataclass

# kubecis's own formats (HTML, SARIF, CSV, history) use kube-bench's four states plus this one.
WAIVED = "WAIVED"
STATUSES = ("PASS", "FAIL", "WARN", "INFO", WAIVED)


class State(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    INFO = "INFO"


@dataclass(frozen=True, slots=True)
class AppliedWaiver:
    """The waiver that turned a FAIL/WARN check into a waived one."""

    id: str  # the waiver's id, or "FILE:LINE" of its entry
    reason: str
    owner: str
    expires: str  # ISO date, the last day the waiver applies
    state: State  # the check's state before it was waived

    def describe(self) -> str:
        """The text kube-bench's formats carry in the check's ``reason``."""
        owner = f", owner {self.owner}" if self.owner else ""
        return f"waived ({self.id}{owner}, until {self.expires}; was {self.state.value}): {self.reason}"


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
    # Not part of kube-bench's JSON: the waiver applied to this check (its state is then INFO).
    waiver: AppliedWaiver | None = None

    @property
    def status(self) -> str:
        """The state in kubecis's own formats: kube-bench's four, or WAIVED."""
        return WAIVED if self.waiver is not None else self.state.value

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
class StatusCounts:
    """Counts in kubecis's own formats: a waived check counts as WAIVED, not as the INFO it is in kube-bench's."""

    pass_: int = 0
    fail: int = 0
    warn: int = 0
    info: int = 0
    waived: int = 0

    @classmethod
    def of(cls, checks: Iterable[CheckResult]) -> StatusCounts:
        c = cls()
        for check in checks:
            c.add(check.status)
        return c

    def add(self, status: str) -> None:
        name = "pass_" if status == "PASS" else status.lower()
        setattr(self, name, getattr(self, name) + 1)

    def get(self, status: str) -> int:
        return int(getattr(self, "pass_" if status == "PASS" else status.lower()))

    def __iadd__(self, other: StatusCounts) -> StatusCounts:
        for s in STATUSES:
            name = "pass_" if s == "PASS" else s.lower()
            setattr(self, name, self.get(s) + other.get(s))
        return self

    def as_dict(self) -> dict[str, int]:
        return {s: self.get(s) for s in STATUSES}

    @property
    def total(self) -> int:
        return self.pass_ + self.fail + self.warn + self.info + self.waived

    @property
    def pass_rate(self) -> float | None:
        """PASS out of the checks that gave a verdict (PASS + FAIL); None when none did."""
        decided = self.pass_ + self.fail
        return self.pass_ / decided if decided else None


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


@dataclass(frozen=True, slots=True)
class WaiverUse:
    """One waiver of the file and what it did in this run (kubecis's own formats list them)."""

    id: str
    reason: str
    owner: str
    expires: str
    status: str  # "applied", "expired" (not applied), "unused" (active, waived nothing)
    checks: tuple[str, ...] = ()  # applied: the checks it waived; expired: the checks it would have waived


@dataclass(slots=True)
class RunResult:
    controls: list[ControlsResult] = field(default_factory=list)
    # Facts about the run that are not part of kube-bench's formats (benchmark, executor notes...).
    benchmark: str = ""
    notes: list[str] = field(default_factory=list)
    # Which node of which cluster, and when (RFC 3339, UTC): set by the caller; kubecis's own formats and
    # the sinks show and key on them.
    node: str = ""
    cluster: str = ""
    scanned_at: str = ""
    # What the waivers file did (None: no waivers file was given).
    waivers: tuple[WaiverUse, ...] | None = None

    def checks(self) -> Iterator[tuple[ControlsResult, GroupResult, CheckResult]]:
        """Every check with its controls object and group, in report order."""
        for controls in self.controls:
            for group in controls.groups:
                for check in group.checks:
                    yield controls, group, check

    @property
    def status_counts(self) -> StatusCounts:
        return StatusCounts.of(c for _, _, c in self.checks())

    @property
    def totals(self) -> Counts:
        t = Counts()
        for c in self.controls:
            t += c.counts
        return t

    def sorted(self) -> RunResult:
        return replace(self, controls=sorted(self.controls, key=ControlsResult.sort_key), notes=list(self.notes))

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

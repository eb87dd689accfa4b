"""What changed between two scans, per node and check (``kubecis diff``): pure functions of stored scans.

A check is matched by its id. Its change is put in the first category that applies:

    newly_failing        now FAIL, before anything else (or absent)
    fixed                now PASS, before FAIL or WAIVED
    newly_not_evaluated  now WARN or INFO, before PASS, FAIL or WAIVED (the check no longer gives a verdict)
    newly_waived         now WAIVED, before anything else
    changed              any other change of status (e.g. WARN -> PASS, WAIVED -> ... )
    added / removed      the check exists in only one of the scans (not FAIL)

and ``benchmark_changed`` tells whether the two scans ran different benchmarks (then ids may name
different checks; the diff still lists them by id). A :class:`NodeDiff` is one node's pair of scans; a
cluster diff is a list of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubecis.store import Scan, StoredCheck

CATEGORIES = ("newly_failing", "fixed", "newly_not_evaluated", "newly_waived", "changed", "added", "removed")
TITLES = {
    "newly_failing": "newly failing",
    "fixed": "fixed",
    "newly_not_evaluated": "newly not evaluated",
    "newly_waived": "newly waived",
    "changed": "other status changes",
    "added": "added checks",
    "removed": "removed checks",
}


@dataclass(frozen=True, slots=True)
class CheckChange:
    check_id: str
    text: str
    target: str
    before: str  # status, "" when absent
    after: str
    reason: str = ""  # the reason now (or before, for a removed check)
    actual_value: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check_id, "text": self.text, "target": self.target, "before": self.before or None,
                "after": self.after or None, "reason": self.reason, "actual_value": self.actual_value}


@dataclass(slots=True)
class NodeDiff:
    cluster: str
    node: str
    before: Scan
    after: Scan
    changes: dict[str, list[CheckChange]] = field(default_factory=dict)

    @property
    def benchmark_changed(self) -> bool:
        return self.before.benchmark != self.after.benchmark

    @property
    def empty(self) -> bool:
        return not self.benchmark_changed and not any(self.changes.values())

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"cluster": self.cluster, "node": self.node, "from": self.before.to_dict(),
                             "to": self.after.to_dict(), "benchmark_changed": self.benchmark_changed}
        for cat in CATEGORIES:
            d[cat] = [c.to_dict() for c in self.changes.get(cat, [])]
        return d


def category(before: str, after: str) -> str | None:
    """The category of a status change (statuses as stored; "" for absent), None for no change."""
    if before == after:
        return None
    if after == "FAIL":
        return "newly_failing"
    if not after:
        return "removed"
    if not before:
        return "added"
    if after == "PASS" and before in ("FAIL", "WAIVED"):
        return "fixed"
    if after in ("WARN", "INFO") and before in ("PASS", "FAIL", "WAIVED"):
        return "newly_not_evaluated"
    if after == "WAIVED":
        return "newly_waived"
    return "changed"


def diff_checks(before: Mapping[str, StoredCheck], after: Mapping[str, StoredCheck]) -> dict[str, list[CheckChange]]:
    out: dict[str, list[CheckChange]] = {c: [] for c in CATEGORIES}
    ids = list(after) + [i for i in before if i not in after]
    for cid in ids:
        b, a = before.get(cid), after.get(cid)
        cat = category(b.status if b else "", a.status if a else "")
        if cat is None:
            continue
        ref = a or b
        assert ref is not None
        out[cat].append(CheckChange(cid, ref.text, ref.target, b.status if b else "", a.status if a else "",
                                    ref.reason, ref.actual_value))
    for changes in out.values():
        changes.sort(key=lambda c: _id_key(c.check_id))
    return out


def _id_key(check_id: str) -> tuple[tuple[int, int | str], ...]:
    """Check ids in numeric order: 1.2.10 after 1.2.9."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in check_id.split("."))


def node_diff(before: Scan, after: Scan, before_checks: Mapping[str, StoredCheck],
              after_checks: Mapping[str, StoredCheck]) -> NodeDiff:
    return NodeDiff(after.cluster, after.node, before, after, diff_checks(before_checks, after_checks))


def to_dict(diffs: Sequence[NodeDiff]) -> dict[str, Any]:
    return {"nodes": [d.to_dict() for d in diffs]}


def render_text(diffs: Sequence[NodeDiff]) -> str:
    lines: list[str] = []
    for d in diffs:
        where = f"node {d.node or '(unnamed)'}" + (f" (cluster {d.cluster})" if d.cluster else "")
        lines.append(f"== {where} ==")
        for label, s in (("from", d.before), ("to", d.after)):
            lines.append(f"{label:>4} scan {s.id}  {s.scanned_at}  {s.benchmark}  "
                         f"PASS {s.counts.pass_} FAIL {s.counts.fail} WARN {s.counts.warn} "
                         f"INFO {s.counts.info} WAIVED {s.counts.waived}")
        if d.benchmark_changed:
            lines.append(f"benchmark changed: {d.before.benchmark} -> {d.after.benchmark}")
        for cat in CATEGORIES:
            changes = d.changes.get(cat, [])
            if not changes:
                continue
            lines.append(f"{TITLES[cat]} ({len(changes)}):")
            for c in changes:
                lines.append(f"  {c.check_id} {c.before or '-'} -> {c.after or '-'}  {c.text}")
        if d.empty:
            lines.append("no changes")
        lines.append("")
    return "\n".join(lines)


def render_html(diffs: Sequence[NodeDiff]) -> str:
    from kubecis.report.html import render_template

    return render_template("diff.html.j2", title="kubecis diff", diffs=diffs, categories=CATEGORIES,
                           titles=TITLES)

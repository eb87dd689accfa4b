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
cluster diff (:func:`batch_diff`, two batches of a cluster scan) is a list of them, one per node of either
batch and one for the cluster-wide policies, each with its ``coverage`` change:

    newly_not_evaluated  evaluated before, not evaluated now (the reason says why); its checks are not compared
    evaluated_again      not evaluated before, evaluated now
    still_not_evaluated  not evaluated in both
    added / removed      the node is in only one of the batches
    ""                   evaluated in both: its checks are compared as above
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubecis.store import Batch, Scan, StoredCheck

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


COVERAGE = ("newly_not_evaluated", "evaluated_again", "still_not_evaluated", "added", "removed")
COVERAGE_TITLES = {
    "newly_not_evaluated": "newly NOT EVALUATED",
    "evaluated_again": "evaluated again",
    "still_not_evaluated": "still NOT EVALUATED",
    "added": "node added",
    "removed": "node removed",
}


@dataclass(slots=True)
class NodeDiff:
    """One node's pair of scans (``before``/``after`` None: the node is in only one batch)."""

    cluster: str
    node: str
    before: Scan | None
    after: Scan | None
    changes: dict[str, list[CheckChange]] = field(default_factory=dict)
    scope: str = "node"  # "cluster": the cluster-wide policies

    @property
    def coverage(self) -> str:
        """How the node's coverage changed ("" when it was evaluated both times)."""
        b, a = self.before, self.after
        if b is None:
            return "added"
        if a is None:
            return "removed"
        if b.evaluated and not a.evaluated:
            return "newly_not_evaluated"
        if not b.evaluated and a.evaluated:
            return "evaluated_again"
        if not b.evaluated and not a.evaluated:
            return "still_not_evaluated"
        return ""

    @property
    def benchmark_changed(self) -> bool:
        b, a = self.before, self.after
        return b is not None and a is not None and b.evaluated and a.evaluated and b.benchmark != a.benchmark

    @property
    def newly_failing(self) -> bool:
        return bool(self.changes.get("newly_failing"))

    @property
    def empty(self) -> bool:
        return not self.coverage and not self.benchmark_changed and not any(self.changes.values())

    @property
    def label(self) -> str:
        return "cluster-wide (policies)" if self.scope == "cluster" else f"node {self.node or '(unnamed)'}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"cluster": self.cluster, "node": self.node, "scope": self.scope,
                             "from": self.before.to_dict() if self.before else None,
                             "to": self.after.to_dict() if self.after else None,
                             "coverage": self.coverage or None, "benchmark_changed": self.benchmark_changed}
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


def node_diff(before: Scan | None, after: Scan | None, before_checks: Mapping[str, StoredCheck],
              after_checks: Mapping[str, StoredCheck]) -> NodeDiff:
    """One node's diff; check changes only when it was evaluated both times."""
    ref = after or before
    assert ref is not None
    d = NodeDiff(ref.cluster, ref.node, before, after, scope=ref.scope)
    d.changes = diff_checks(before_checks, after_checks) if not d.coverage else {c: [] for c in CATEGORIES}
    return d


class ChecksOf(Protocol):
    def __call__(self, scan_id: int, /) -> Mapping[str, StoredCheck]: ...


def batch_diff(before: Sequence[Scan], after: Sequence[Scan], checks: ChecksOf) -> list[NodeDiff]:
    """Two batches of a cluster, node by node (paired by scope and node name): the nodes of the newer batch in
    its order, then the nodes only the older one had; ``checks`` reads a scan's checks (only for nodes
    evaluated in both)."""
    old = {(s.scope, s.node): s for s in before}
    new = {(s.scope, s.node): s for s in after}
    keys = list(new) + [k for k in old if k not in new]
    keys.sort(key=lambda k: k[0] == "cluster")  # the policies last
    out = []
    for k in keys:
        b, a = old.get(k), new.get(k)
        both = b is not None and a is not None and b.evaluated and a.evaluated
        out.append(node_diff(b, a, checks(b.id) if both and b else {}, checks(a.id) if both and a else {}))
    return out


def to_dict(diffs: Sequence[NodeDiff], batches: tuple[Batch, Batch] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if batches is not None:
        d["from_batch"], d["to_batch"] = batches[0].to_dict(), batches[1].to_dict()
        d["summary"] = summary(diffs)
    d["nodes"] = [x.to_dict() for x in diffs]
    return d


def summary(diffs: Sequence[NodeDiff]) -> dict[str, int]:
    """How many nodes changed how (a batch diff's headline; the policies count in the categories, not in
    ``nodes`` and ``unchanged``)."""
    out = {"nodes": sum(1 for d in diffs if d.scope == "node"),
           "newly_failing": sum(1 for d in diffs if d.newly_failing),
           "fixed": sum(1 for d in diffs if d.changes.get("fixed"))}
    for cov in COVERAGE:
        out[cov] = sum(1 for d in diffs if d.coverage == cov)
    out["unchanged"] = sum(1 for d in diffs if d.empty and d.scope == "node")
    return out


def _scan_line(label: str, s: Scan | None) -> str:
    if s is None:
        return f"{label:>4} -  (not in this batch)"
    if not s.evaluated:
        return f"{label:>4} scan {s.id}  {s.scanned_at}  NOT EVALUATED: {s.reason}"
    return (f"{label:>4} scan {s.id}  {s.scanned_at}  {s.benchmark}  PASS {s.counts.pass_} FAIL {s.counts.fail} "
            f"WARN {s.counts.warn} INFO {s.counts.info} WAIVED {s.counts.waived}")


def render_text(diffs: Sequence[NodeDiff], batches: tuple[Batch, Batch] | None = None) -> str:
    lines: list[str] = []
    if batches is not None:
        b, a = batches
        lines.append(f"== cluster {a.cluster or '(unnamed)'}: batch {b.id[:12]} ({b.scanned_at}, {b.evaluated} of "
                     f"{b.nodes} nodes evaluated) -> batch {a.id[:12]} ({a.scanned_at}, {a.evaluated} of "
                     f"{a.nodes} nodes evaluated) ==")
        sm = summary(diffs)
        parts = [f"{sm['newly_failing']} with newly failing checks", f"{sm['fixed']} with fixed checks"]
        parts += [f"{sm[c]} {COVERAGE_TITLES[c]}" for c in COVERAGE if sm[c]]
        lines.append(f"{sm['nodes']} nodes: " + ", ".join(parts) + f"; {sm['unchanged']} unchanged")
        lines.append("")
    for d in diffs:
        if batches is not None and d.empty:
            continue
        where = d.label + (f" (cluster {d.cluster})" if d.cluster else "")
        lines.append(f"== {where} ==")
        lines.append(_scan_line("from", d.before))
        lines.append(_scan_line("to", d.after))
        if d.coverage:
            now = d.after
            why = f": {now.reason}" if now is not None and not now.evaluated and now.reason else ""
            lines.append(f"{COVERAGE_TITLES[d.coverage]}{why}")
        if d.benchmark_changed and d.before and d.after:
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
    if batches is not None and all(d.empty for d in diffs):
        lines.append("no changes")
        lines.append("")
    return "\n".join(lines)


def render_html(diffs: Sequence[NodeDiff], batches: tuple[Batch, Batch] | None = None) -> str:
    from kubecis.report.html import render_template

    return render_template("diff.html.j2", title="kubecis diff", diffs=diffs, categories=CATEGORIES,
                           titles=TITLES, batches=batches, coverage_titles=COVERAGE_TITLES,
                           summary=summary(diffs) if batches is not None else None)

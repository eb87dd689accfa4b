"""Waivers: accept a finding for a reason, by an owner, until a date.

A waivers file (``--waivers FILE``)::

    waivers:
      - id: etcd-on-shared-disk          # optional; default FILE:LINE of the entry
        checks: ["1.1.11", "1.1.12"]     # required: check ids, shell-style patterns allowed ("4.2.*")
        reason: data dir on a dedicated volume, audited by ops   # required
        owner: alice@example.com         # optional
        expires: 2027-01-31              # required: the last day (UTC) the waiver applies
        nodes: ["cp-*"]                  # optional scope: node names (patterns)
        clusters: ["prod"]               # optional scope: cluster names (patterns)
        benchmarks: ["cis-1.12"]         # optional scope: benchmark names (patterns)
        namespaces: ["team-a"]           # optional scope: objects named in a check's evidence
        objects: ["Pod/team-a/web"]      # optional scope: Kind/namespace/name or Kind/name (patterns)

Every scope key narrows the waiver (all given keys must match). A FAIL or WARN check that an active waiver
matches becomes INFO with the waiver in its ``reason`` (kube-bench's formats: existing consumers keep
working) and WAIVED in kubecis's own formats. PASS and INFO checks are never changed. ``namespaces`` and
``objects`` apply to checks whose evidence (``actual_value``) lists objects: what ``kubecis probe`` prints
(see :func:`evidence_objects`), one finding per line as ``Kind namespace/name [detail]`` or
``Kind name [detail]`` (cluster-scoped); such a check is waived only when every object it lists is covered.
A ``Namespace`` object is in its own namespace for the ``namespaces`` scope. A waiver whose ``expires`` date has
passed is not applied and is listed as expired; an active waiver that waived nothing is listed as unused.

Over a cluster (``kubecis cluster scan|collect --waivers``) the file is applied to each node's results (its
node name, the cluster's name, its benchmark) and to the cluster-wide policies (the cluster's name, no node:
a ``nodes``-scoped waiver never applies to them); :func:`merge_uses` tells what each waiver did over the fleet.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from kubecis.errors import WaiverError
from kubecis.results.model import (
    AppliedWaiver,
    CheckResult,
    ControlsResult,
    Counts,
    GroupResult,
    RunResult,
    State,
    WaiverUse,
)

ErrFn = Callable[[yaml.Node, str], None]  # err(node, message)
VisitFn = Callable[[yaml.Node], bool]  # visit(node): False when the node was met before (an alias)

MAX_FILE_BYTES = 1 << 20  # a waivers file is written by people: 1 MiB is far beyond any real one
_LIST_KEYS = ("checks", "nodes", "clusters", "benchmarks", "namespaces", "objects")
_KEYS = ("id", "reason", "owner", "expires", *_LIST_KEYS)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# An object named in a check's evidence: "Pod team-a/web container=nginx", "ClusterRoleBinding ops-admins".
_OBJECT_LINE = re.compile(r"(?P<kind>[A-Z][A-Za-z0-9]*) (?P<ref>[^\s/]+(?:/[^\s/]+)?)(?: \S.*)?")
# The first line of a probe's output: "privileged_containers: 2" (the key its check's test reads).
_KEY_LINE = re.compile(r"[a-z][a-z0-9_]*: (?P<n>0|[1-9][0-9]*)")
_NOTE = "note: "


@dataclass(frozen=True, slots=True)
class Waiver:
    id: str
    line: int
    checks: tuple[str, ...]
    reason: str
    owner: str
    expires: dt.date
    nodes: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    benchmarks: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()

    @property
    def object_scoped(self) -> bool:
        return bool(self.namespaces or self.objects)

    def active(self, today: dt.date) -> bool:
        return today <= self.expires

    def in_scope(self, run: RunResult) -> bool:
        return (_any(self.nodes, run.node) and _any(self.clusters, run.cluster)
                and _any(self.benchmarks, run.benchmark))

    def names(self, check_id: str) -> bool:
        return any(fnmatchcase(check_id, p) for p in self.checks)

    def covers(self, obj: EvidenceObject) -> bool:
        ns = obj.in_namespace
        if self.namespaces and not (ns and _any(self.namespaces, ns)):
            return False
        return _any(self.objects, obj.key)

    def applied(self, state: State) -> AppliedWaiver:
        return AppliedWaiver(self.id, self.reason, self.owner, self.expires.isoformat(), state)


def _any(patterns: tuple[str, ...], value: str) -> bool:
    """An empty scope matches everything; otherwise one pattern must match."""
    return not patterns or any(fnmatchcase(value, p) for p in patterns)


@dataclass(frozen=True, slots=True)
class EvidenceObject:
    kind: str
    namespace: str  # "" for a cluster-scoped object
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    @property
    def in_namespace(self) -> str:
        """The namespace the ``namespaces`` scope matches: a Namespace object is in itself."""
        return self.name if self.kind == "Namespace" and not self.namespace else self.namespace


def _object(line: str) -> EvidenceObject | None:
    m = _OBJECT_LINE.fullmatch(line)
    if m is None:
        return None
    ns, _, name = m["ref"].rpartition("/")
    return EvidenceObject(m["kind"], ns, name)


def evidence_objects(actual_value: str) -> list[EvidenceObject] | None:
    """The objects a check's evidence lists, or None when it is not a list of objects.

    Two shapes are lists of objects, matched exactly:

    * what ``kubecis probe NAME`` prints (the audit output of the bundled policies checks): a ``key: N`` line,
      then exactly N finding lines ``Kind namespace/name [detail]`` or ``Kind name [detail]``, then only
      ``note: ...`` lines (e.g. ``privileged_containers: 1`` / ``Deployment legacy/log-shipper container=shipper
      privileged=true`` / ``note: Pod Security Admission enforces restricted in: payments``);
    * finding lines only (an audit of your own that prints one object per line).

    Anything else (a count that does not match the lines, a line of another shape, text after the notes) is not
    a list of objects: an object-scoped waiver then waives nothing, never something it did not name.
    """
    lines = actual_value.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return None
    head = _KEY_LINE.fullmatch(lines[0])
    if head is None:
        objs = [_object(line) for line in lines]
        return None if None in objs else [o for o in objs if o is not None]
    count = int(head["n"])
    found, rest = lines[1:1 + count], lines[1 + count:]
    if len(found) != count or not all(line.startswith(_NOTE) for line in rest):
        return None
    out = []
    for line in found:
        o = _object(line)
        if o is None:
            return None
        out.append(o)
    return out


# ---- loading ------------------------------------------------------------------------------------------
def load(path: Path) -> list[Waiver]:
    """Read and validate a waivers file; every problem is reported as ``FILE:LINE: message``."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        raise WaiverError(f"{path}: is a directory") from None
    except OSError as e:
        raise WaiverError(f"{path}: {e.strerror or e}") from None
    if len(data) > MAX_FILE_BYTES:
        raise WaiverError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB; not a waivers file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise WaiverError(f"{path}: not UTF-8 text (byte {e.start})") from None
    return parse(text, str(path))


def parse(text: str, path: str) -> list[Waiver]:
    errors: list[str] = []
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise WaiverError(f"{where}: malformed YAML: {e.problem or e.context or 'invalid'}") from None
    except (yaml.YAMLError, ValueError) as e:
        raise WaiverError(f"{path}: malformed YAML: {e}") from None
    if root is None:
        raise WaiverError(f"{path}:1: empty file; expected a mapping with a 'waivers' list")
    seen: set[int] = set()

    def err(node: yaml.Node, message: str) -> None:
        errors.append(f"{path}:{node.start_mark.line + 1}: {message}")

    def visit(node: yaml.Node) -> bool:
        """False for a node met twice (a YAML alias): aliases are refused, so no document can explode."""
        if id(node) in seen:
            err(node, "YAML aliases are not supported in a waivers file")
            return False
        seen.add(id(node))
        return True

    waivers: list[Waiver] = []
    if not isinstance(root, yaml.MappingNode):
        raise WaiverError(f"{path}:{root.start_mark.line + 1}: expected a mapping with a 'waivers' list")
    items: yaml.Node | None = None
    for k, v in root.value:
        key = k.value if isinstance(k, yaml.ScalarNode) else None
        if key == "waivers":
            items = v
        else:
            err(k, f"unknown key {key!r} (a waivers file has one key: waivers)")
    if items is None:
        err(root, "missing 'waivers' (a list of waivers)")
    elif isinstance(items, yaml.ScalarNode) and items.value in ("", "~", "null"):
        pass  # "waivers:" with nothing: a valid, empty file
    elif not isinstance(items, yaml.SequenceNode):
        err(items, "'waivers' must be a list")
    else:
        ids: dict[str, int] = {}
        for entry in items.value:
            if not visit(entry):
                continue
            w = _entry(entry, path, err, visit)
            if w is None:
                continue
            if w.id in ids:
                err(entry, f"duplicate waiver id {w.id!r} (first at line {ids[w.id]})")
                continue
            ids[w.id] = w.line
            waivers.append(w)
    if errors:
        errors.sort(key=lambda e: int(e[len(path) + 1:].split(":", 1)[0]))  # in file order
        raise WaiverError("\n".join(errors))
    return waivers


def _entry(node: yaml.Node, path: str, err: ErrFn, visit: VisitFn) -> Waiver | None:
    if not isinstance(node, yaml.MappingNode):
        err(node, "each waiver must be a mapping (checks, reason, expires, ...)")
        return None
    line = node.start_mark.line + 1
    fields: dict[str, yaml.Node] = {}
    ok = True
    for k, v in node.value:
        key = k.value if isinstance(k, yaml.ScalarNode) else None
        if key not in _KEYS:
            err(k, f"unknown key {key!r} (known: {', '.join(_KEYS)})")
            ok = False
        elif key in fields:
            err(k, f"duplicate key {key!r}")
            ok = False
        elif visit(v):
            fields[key] = v
        else:
            ok = False

    def scalar(name: str, required: bool) -> str:
        nonlocal ok
        v = fields.get(name)
        if v is None:
            if required:
                err(node, f"missing {name!r}")
                ok = False
            return ""
        if not isinstance(v, yaml.ScalarNode):
            err(v, f"{name!r} must be a string")
            ok = False
            return ""
        value = str(v.value).strip()
        if required and not value:
            err(v, f"{name!r} must not be empty")
            ok = False
        return value

    def strings(name: str, required: bool) -> tuple[str, ...]:
        nonlocal ok
        v = fields.get(name)
        if v is None:
            if required:
                err(node, f"missing {name!r} (a list of check ids)")
                ok = False
            return ()
        if not isinstance(v, yaml.SequenceNode) or not v.value:
            err(v, f"{name!r} must be a non-empty list of strings, e.g. {name}: [\"...\"]")
            ok = False
            return ()
        out = []
        for item in v.value:
            if not isinstance(item, yaml.ScalarNode) or not str(item.value).strip():
                err(item, f"{name!r}: each entry must be a non-empty string")
                ok = False
                continue
            out.append(str(item.value).strip())
        return tuple(out)

    wid = scalar("id", False) or f"{path}:{line}"
    reason = scalar("reason", True)
    owner = scalar("owner", False)
    expires_text = scalar("expires", True)
    expires = dt.date.min
    if expires_text:
        try:
            if not _DATE.fullmatch(expires_text):
                raise ValueError
            expires = dt.date.fromisoformat(expires_text)
        except ValueError:
            err(fields["expires"], f"'expires' must be a date YYYY-MM-DD, not {expires_text!r}")
            ok = False
    lists = {name: strings(name, name == "checks") for name in _LIST_KEYS}
    for pattern in lists["objects"]:
        if pattern.count("/") not in (1, 2):
            err(fields["objects"], f"'objects': {pattern!r} is not Kind/namespace/name or Kind/name")
            ok = False
    if not ok:
        return None
    return Waiver(wid, line, lists["checks"], reason, owner, expires, lists["nodes"], lists["clusters"],
                  lists["benchmarks"], lists["namespaces"], lists["objects"])


# ---- applying -----------------------------------------------------------------------------------------
_WAIVABLE = (State.FAIL, State.WARN)


def apply(run: RunResult, waivers: list[Waiver], today: dt.date) -> RunResult:
    """A copy of ``run`` with the active waivers applied and ``waivers`` telling what each one did.

    ``today`` is the scan's date (UTC): a waiver applies through its ``expires`` day.
    """
    active = [w for w in waivers if w.active(today) and w.in_scope(run)]
    expired = [w for w in waivers if not w.active(today)]
    waived: dict[str, list[str]] = {w.id: [] for w in waivers}
    partial: dict[str, list[str]] = {w.id: [] for w in waivers}
    would: dict[str, list[str]] = {w.id: [] for w in expired}
    controls_out: list[ControlsResult] = []
    for controls in run.controls:
        groups_out: list[GroupResult] = []
        c_counts = replace(controls.counts)
        for group in controls.groups:
            g_counts = replace(group.counts)
            checks_out: list[CheckResult] = []
            for check in group.checks:
                if check.state in _WAIVABLE:
                    for w in expired:
                        if w.names(check.id) and w.in_scope(run):
                            would[w.id].append(check.id)
                    by = _decide(check, [w for w in active if w.names(check.id)], partial)
                    if by:
                        for w in by:
                            waived[w.id].append(check.id)
                        applied = _combine(by, check.state)
                        check = replace(check, state=State.INFO, reason=applied.describe(), waiver=applied)
                        _move(g_counts, applied.state)
                        _move(c_counts, applied.state)
                checks_out.append(check)
            groups_out.append(replace(group, checks=checks_out, counts=g_counts))
        controls_out.append(replace(controls, groups=groups_out, counts=c_counts))
    uses = []
    for w in waivers:
        base = (w.id, w.reason, w.owner, w.expires.isoformat())
        if not w.active(today):
            uses.append(WaiverUse(*base, "expired", tuple(would[w.id])))
        elif waived[w.id]:
            uses.append(WaiverUse(*base, "applied", tuple(waived[w.id])))
        elif partial[w.id]:
            uses.append(WaiverUse(*base, "partial", tuple(partial[w.id])))
        else:
            uses.append(WaiverUse(*base, "unused"))
    return replace(run, controls=controls_out, notes=list(run.notes), waivers=tuple(uses))


def _decide(check: CheckResult, matching: list[Waiver], partial: dict[str, list[str]]) -> list[Waiver]:
    """The waivers that waive ``check`` (empty: it stays as it is)."""
    whole = [w for w in matching if not w.object_scoped]
    if whole:
        return whole[:1]
    scoped = [w for w in matching if w.object_scoped]
    if not scoped:
        return []
    objects = evidence_objects(check.actual_value)
    if objects is None:
        return []
    used = [w for w in scoped if any(w.covers(o) for o in objects)]
    if used and all(any(w.covers(o) for w in used) for o in objects):
        return used
    for w in used:
        partial[w.id].append(check.id)
    return []


def _combine(by: list[Waiver], state: State) -> AppliedWaiver:
    if len(by) == 1:
        return by[0].applied(state)
    return AppliedWaiver(
        "+".join(w.id for w in by),
        "; ".join(dict.fromkeys(w.reason for w in by)),
        ", ".join(dict.fromkeys(w.owner for w in by if w.owner)),
        min(w.expires for w in by).isoformat(),
        state,
    )


def _move(counts: Counts, state: State) -> None:
    """One check moves from ``state`` to INFO."""
    if state is State.FAIL:
        counts.fail -= 1
    else:
        counts.warn -= 1
    counts.info += 1


def merge_uses(per_run: Sequence[tuple[WaiverUse, ...]]) -> tuple[WaiverUse, ...]:
    """What one waivers file did over several runs (a cluster's nodes and its policies): a waiver is applied if
    it waived anything anywhere, partial if it only covered some objects somewhere, unused if it waived nothing
    anywhere; its ``checks`` are the check ids involved (each once, in order)."""
    merged: dict[str, WaiverUse] = {}
    rank = {"applied": 3, "partial": 2, "unused": 1, "expired": 0}
    for uses in per_run:
        for u in uses:
            m = merged.get(u.id)
            if m is None or rank[u.status] > rank[m.status]:
                merged[u.id] = u
            elif u.status == m.status:
                merged[u.id] = replace(m, checks=tuple(dict.fromkeys((*m.checks, *u.checks))))
    return tuple(merged.values())


def summary_lines(uses: tuple[WaiverUse, ...], *, waived: int | None = None, nodes: int | None = None,
                  policies: bool = False) -> list[str]:
    """What the waivers did, in a few lines for stderr (text/JSON/JUnit reports have no place for it).

    Over a cluster (``uses`` from :func:`merge_uses`), ``waived`` is the number of checks waived in all, ``nodes``
    the number of nodes where something was waived and ``policies`` whether something of the cluster-wide
    policies was."""
    applied = [u for u in uses if u.status == "applied"]
    lines = []
    n = sum(len(u.checks) for u in applied) if waived is None else waived
    where = ""
    if nodes is not None:
        where = f" on {nodes} node{'s' if nodes != 1 else ''}" + (" and the cluster-wide policies" if policies else "")
    lines.append(f"waivers: {n} check{'s' if n != 1 else ''} waived{where} by {len(applied)} of {len(uses)} "
                 "waivers")
    for u in uses:
        if u.status == "expired":
            extra = f" (would have waived {', '.join(u.checks)})" if u.checks else ""
            lines.append(f"waiver {u.id} expired on {u.expires}, not applied{extra}")
        elif u.status == "unused":
            lines.append(f"waiver {u.id} is unused: it waived nothing "
                         + ("on any node" if nodes is not None else "in this run"))
        elif u.status == "partial":
            lines.append(f"waiver {u.id} covers only some of the objects of {', '.join(u.checks)}; "
                         "they stay as they are")
    return lines

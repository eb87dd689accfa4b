"""Central evaluation: a node's snapshot (from its pod log or a file) into a :class:`NodeResult`.

A snapshot is replayed exactly like ``kubecis run --snapshot`` (native executor, recorded API answers),
with the benchmark and targets it was recorded for unless overridden. Cluster-wide targets (policies,
managedservices) are never part of a node's result: they are evaluated once (:class:`PolicySource`).

``collect`` evaluates many files in a process pool: each worker loads the definitions once (the loader
caches parsed controls files), files are handed out in order and results stream back in order.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kubecis.audit.dispatch import OncePerRun
from kubecis.cluster.decide import CLUSTER_TARGETS
from kubecis.cluster.model import Coverage, NodeResult
from kubecis.errors import KubecisError
from kubecis.results.model import RunResult

if TYPE_CHECKING:
    from kubecis.results.waivers import Waiver

ROLE_OF_TARGET = {"master": "control-plane", "controlplane": "control-plane", "etcd": "etcd", "node": "worker"}
MAX_SNAPSHOT = 256 * 1024 * 1024  # decompressed bytes; a node's snapshot is far smaller


@dataclass(frozen=True, slots=True)
class EvalOptions:
    config_dir: Path
    benchmark: str = ""  # overrides what the snapshot recorded
    version: str = ""
    targets: tuple[str, ...] = ()
    # who and when, on every node's results (kubecis's formats, history, waiver scopes)
    cluster: str = ""
    scanned_at: str = ""  # RFC 3339, UTC
    # the waivers file (None: none given), applied on each node as it is evaluated, as of ``today`` (UTC)
    waivers: tuple[Waiver, ...] | None = None
    today: dt.date | None = None
    # keep each node's full results (HTML, SARIF, CSV, JUnit and the history store read every check); else
    # only the summary travels back from a worker process
    keep_results: bool = False


def annotate(result: RunResult, node: str, opts: EvalOptions) -> RunResult:
    """A node's (or the policies') results with who and when, and the waivers applied."""
    result = replace(result, node=node, cluster=opts.cluster, scanned_at=opts.scanned_at)
    if opts.waivers is not None:
        from kubecis.results.waivers import apply

        result = apply(result, list(opts.waivers), opts.today or dt.datetime.now(dt.UTC).date())
    return result


def load_document(data: bytes, what: str) -> dict[str, Any]:
    """A snapshot document from gzip bytes; :class:`ValueError` with the reason if it is not one."""
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        raw = d.decompress(data, MAX_SNAPSHOT + 1)
        if len(raw) > MAX_SNAPSHOT:
            raise ValueError(f"{what}: snapshot larger than {MAX_SNAPSHOT} bytes")
        if not d.eof:
            raise ValueError(f"{what}: not a complete gzip stream")
    except zlib.error as exc:
        raise ValueError(f"{what}: not a readable gzip snapshot ({exc})") from None
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{what}: corrupt snapshot (invalid JSON)") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{what}: not a kubecis snapshot")
    return doc


class ReplayExecutor(OncePerRun):
    """The native executor over one snapshot, each distinct audit run once (a snapshot does not change)."""


def evaluate_document(name: str, doc: dict[str, Any], opts: EvalOptions, *, node_targets_only: bool = True,
                      base: NodeResult | None = None) -> NodeResult:
    """One node's result from its snapshot document (never raises for bad data: NOT_EVALUATED with why)."""
    from kubecis.audit.native import NativeExecutor
    from kubecis.engine import PlanRequest, make_plan, recorded_request, run_plan
    from kubecis.host.cluster import SnapshotCluster
    from kubecis.host.snapshot import SnapshotHost
    from kubecis.results.runner import Filters

    node = base if base is not None else NodeResult(name)
    rec = doc.get("recorded")
    node.recorded_cluster_targets = isinstance(rec, dict) and isinstance(rec.get("targets"), list) and any(
        t in CLUSTER_TARGETS for t in rec["targets"])
    try:
        host = SnapshotHost(doc, name)
        req, taken = recorded_request(PlanRequest(opts.config_dir, opts.benchmark, opts.version, opts.targets,
                                                  allow_tools=False), host)
        if node_targets_only:
            kept = tuple(t for t in req.targets if t not in CLUSTER_TARGETS)
            if req.targets and not kept:
                raise KubecisError("the snapshot holds cluster-wide targets only "
                                   f"({', '.join(req.targets)})")
            req = PlanRequest(req.config_dir, req.benchmark, req.version, kept, req.use_cmdline_paths,
                              req.allow_tools)
        plan = make_plan(req, host)
        ex = ReplayExecutor(NativeExecutor(host, cluster=SnapshotCluster.from_host(host)))
        result = run_plan(plan, ex, Filters())
    except KubecisError as exc:
        node.state, node.reason = Coverage.NOT_EVALUATED, f"snapshot not evaluated: {exc}"
        return node
    result = annotate(result, name, opts)
    node.benchmark = plan.selection.benchmark
    node.targets = [t.target for t in plan.targets]
    if not node.roles:
        node.roles = list(dict.fromkeys(ROLE_OF_TARGET[t] for t in node.targets if t in ROLE_OF_TARGET))
    node.decisions += [f"replay: {x}" for x in taken] + plan.notes
    from kubecis.cluster.report import summarize

    node.state, node.reason, node.result = Coverage.EVALUATED, "", result
    node.summary = summarize(result)
    return node


def evaluate_bytes(name: str, data: bytes, opts: EvalOptions, base: NodeResult | None = None) -> NodeResult:
    try:
        doc = load_document(data, name)
    except ValueError as exc:
        node = base if base is not None else NodeResult(name)
        node.state, node.reason = Coverage.NOT_EVALUATED, str(exc)
        return node
    return evaluate_document(name, doc, opts, base=base)


# ---- files (collect) ----------------------------------------------------------------------------------------

def node_name(path: Path) -> str:
    """``node-a.snap`` → ``node-a`` (the file name without its extension)."""
    name = path.name
    return name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name


def snapshot_files(args: Sequence[Path]) -> list[Path]:
    """The files named, and the regular files directly inside the directories named, sorted within each."""
    out: list[Path] = []
    for a in args:
        if a.is_dir():
            out += sorted(p for p in a.iterdir() if p.is_file() and not p.name.startswith("."))
        else:
            out.append(a)
    return out


def evaluate_file(path: Path, opts: EvalOptions) -> NodeResult:
    name = node_name(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SNAPSHOT + 1)
    except OSError as exc:
        return NodeResult(name, reason=f"{path.name}: cannot read ({exc.strerror or exc})")
    if len(data) > MAX_SNAPSHOT:
        return NodeResult(name, reason=f"{path.name}: larger than {MAX_SNAPSHOT} bytes")
    if not data.startswith(b"\x1f\x8b"):  # a saved pod log (`kubectl logs job/...`): the framed payload
        from kubecis.cluster.payload import PayloadError, unframe

        try:
            data = unframe(data)
        except PayloadError as exc:
            return NodeResult(name, reason=f"{path.name}: {exc}")
    return evaluate_bytes(name, data, opts)


_OPTS: EvalOptions | None = None


def _init(opts: EvalOptions) -> None:
    global _OPTS
    _OPTS = opts
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the pool stops its workers with SIGTERM: just end


def _work(path: str) -> NodeResult:
    assert _OPTS is not None
    n = evaluate_file(Path(path), _OPTS)
    if not _OPTS.keep_results:
        n.result = None  # the summary holds what the merged JSON needs; objects would cost pickling and memory
    return n


def evaluate_files(paths: Sequence[Path], opts: EvalOptions, jobs: int = 0) -> Iterator[NodeResult]:
    """Results in the order of ``paths``; ``jobs`` worker processes (0: one per CPU; 1: in this process)."""
    jobs = jobs or (os.cpu_count() or 1)
    if jobs <= 1 or len(paths) < 4:
        for p in paths:
            n = evaluate_file(p, opts)
            if not opts.keep_results:
                n.result = None
            yield n
        return
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(min(jobs, len(paths)), initializer=_init, initargs=(opts,)) as pool:
        chunk = max(1, min(16, len(paths) // (jobs * 8)))
        yield from pool.imap(_work, [str(p) for p in paths], chunksize=chunk)


# ---- policies (once per cluster) ----------------------------------------------------------------------------

class PolicySource(Protocol):
    """Where the cluster-wide targets are evaluated once. The seam for an API-object policy evaluator:
    anything returning the targets' results (or None with a reason) fits."""

    def evaluate(self, config_dir: Path, benchmark: str, targets: Sequence[str]) -> tuple[RunResult | None, str]:
        ...


@dataclass
class ApiPolicies:
    """Cluster-wide targets run natively once against a cluster's API objects: the live API (a scan, through
    the scan's own connection; read-only list/get) or an object dump (``collect --objects``). Their audits are
    ``kubecis probe ...`` (in-process) or kubectl (the native emulation); nothing on any node is read."""

    cluster: Any  # a kubecis.host.cluster.Cluster
    description: str = "the API"

    def evaluate(self, config_dir: Path, benchmark: str, targets: Sequence[str]) -> tuple[RunResult | None, str]:
        from kubecis.audit.native import NativeExecutor
        from kubecis.engine import PlanRequest, make_plan, run_plan
        from kubecis.host.snapshot import FORMAT, VERSION, SnapshotHost
        from kubecis.results.runner import Filters

        if not targets:
            return None, "no cluster-wide targets for this benchmark"
        # no node is read: an empty process table, every other host query "not recorded"
        nothing = SnapshotHost({"format": FORMAT, "version": VERSION, "host": "cluster",
                                "entries": [['["processes"]', {"ok": []}]]}, "cluster")
        plan = make_plan(PlanRequest(config_dir, benchmark, "", tuple(targets), allow_tools=False), nothing)
        res = run_plan(plan, NativeExecutor(nothing, cluster=self.cluster), Filters())
        via = "through the API" if self.description == "the API" else f"against {self.description}"
        return res, f"{', '.join(targets)} of {benchmark} evaluated once {via}"


def cluster_targets(config_dir: Path, benchmark: str, only: Sequence[str] = ()) -> list[str]:
    """The benchmark's cluster-wide targets (``only``: those of them named by ``--targets``)."""
    from kubecis.benchmark.config import Config

    allowed = Config.load(config_dir).targets_for(benchmark)
    return [t for t in allowed if t in CLUSTER_TARGETS and (not only or t in only)]


@dataclass
class SnapshotPolicies:
    """Cluster-wide targets from one snapshot that recorded them (``collect``)."""

    source: Path | None = None
    doc: dict[str, Any] | None = field(default=None, repr=False)

    def evaluate(self, config_dir: Path, benchmark: str, targets: Sequence[str]) -> tuple[RunResult | None, str]:
        if self.doc is None or self.source is None:
            return None, "no snapshot recorded the cluster-wide targets (policies)"
        rec = self.doc.get("recorded") or {}
        recorded = [t for t in rec.get("targets") or [] if t in CLUSTER_TARGETS]
        opts = EvalOptions(config_dir, benchmark=str(rec.get("benchmark") or benchmark), targets=tuple(recorded))
        n = evaluate_document(node_name(self.source), self.doc, opts, node_targets_only=False)
        if n.result is None:
            return None, f"policies from {self.source}: {n.reason}"
        return n.result, f"{', '.join(recorded)} evaluated once, from {self.source}"


def find_policy_snapshot(paths: Sequence[Path]) -> SnapshotPolicies:
    """The first file (in order) whose snapshot recorded a cluster-wide target (``paths``: the candidates; a
    collect passes only the files its workers saw recording one, so no file is read twice for nothing)."""
    for p in paths:
        try:
            with open(p, "rb") as f:
                head = f.read(MAX_SNAPSHOT + 1)
            doc = load_document(head, str(p))
        except (OSError, ValueError):
            continue
        rec = doc.get("recorded")
        if isinstance(rec, dict) and any(t in CLUSTER_TARGETS for t in rec.get("targets") or []):
            return SnapshotPolicies(p, doc)
    return SnapshotPolicies()


def read_gzip(path: Path) -> bytes:
    with gzip.open(path, "rb") as f:
        return f.read()

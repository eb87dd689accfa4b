"""``cluster scan``: one least-privilege Job per selected node, payloads back through the pod logs,
central evaluation, honest coverage, and every object the scan created removed again (also on Ctrl-C).

The Kubernetes scheduler-free path is deliberate: each Job's pod is pinned with ``nodeName`` and tolerates
every taint, so control-plane nodes are covered and nothing home-made places work on nodes.
The lifecycle of a node's pod is classified by :func:`classify`, a pure function of the Pod object, so
every coverage outcome (Pending past the timeout, evicted, failed, OOM-killed, rejected, deleted) is
tested on object dumps as well as on the fake cluster.
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kubecis.cluster.api import ApiError, KubeAPI
from kubecis.cluster.decide import NodePlan, Overrides, plan_node
from kubecis.cluster.evaluate import ApiPolicies, EvalOptions, PolicySource, annotate, evaluate_bytes
from kubecis.cluster.manifests import (
    LABEL_NODE,
    LABEL_SCAN,
    RESOURCES,
    job_name,
    job_object,
    namespace_object,
    node_label,
    requirements,
)
from kubecis.cluster.model import ClusterInfo, ClusterResult, Coverage, NodeResult
from kubecis.cluster.nodes import NodeFacts, Selection, components_by_node
from kubecis.cluster.payload import PayloadError, unframe
from kubecis.errors import KubecisError

# Waiting reasons that will not resolve by themselves within a scan.
_TERMINAL_WAITING = ("InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "ErrImageNeverPull")


@dataclass(frozen=True, slots=True)
class ScanOptions:
    config_dir: Path
    image: str
    namespace: str = "kubecis"
    parallel: int = 5
    timeout: float = 300.0  # per node, from its Job's creation
    poll: float = 1.0
    selection: Selection = field(default_factory=Selection)
    overrides: Overrides = field(default_factory=Overrides)
    pull_policy: str = "IfNotPresent"


class Progress:
    """Plain lines on stderr (one per finished node); :class:`BarProgress` on a terminal."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = 0
        self.done = 0

    def start(self, total: int, namespace: str) -> None:
        self.total = total
        self._line(f"kubecis: scanning {total} nodes (namespace {namespace})")

    def finished(self, node: NodeResult) -> None:
        self.done += 1
        what = "evaluated" if node.evaluated else f"NOT EVALUATED: {node.reason}"
        self._line(f"kubecis: [{self.done}/{self.total}] {node.name}: {what}")

    def tick(self, running: int) -> None:
        pass

    def close(self) -> None:
        pass

    def message(self, text: str) -> None:
        self._line(f"kubecis: {text}")

    def _line(self, text: str) -> None:
        from kubecis.report.color import escape_controls

        self.stream.write((escape_controls(text) if _isatty(self.stream) else text) + "\n")
        self.stream.flush()


class BarProgress(Progress):
    """One line redrawn in place: ``[#####.....] 12/40 nodes, 5 running, 1 not evaluated``."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self.bad = 0
        self.running = 0

    def start(self, total: int, namespace: str) -> None:
        self.total = total
        self._draw()

    def finished(self, node: NodeResult) -> None:
        self.done += 1
        if not node.evaluated:
            self.bad += 1
        self._draw()

    def tick(self, running: int) -> None:
        self.running = running
        self._draw()

    def message(self, text: str) -> None:
        self.stream.write("\r\x1b[2K")
        super().message(text)
        if self.total:
            self._draw()

    def close(self) -> None:
        self.stream.write("\r\x1b[2K")
        self.stream.flush()

    def _draw(self) -> None:
        width = 30
        filled = width * self.done // self.total if self.total else width
        bar = "#" * filled + "." * (width - filled)
        extra = f", {self.bad} not evaluated" if self.bad else ""
        self.stream.write(f"\r\x1b[2K[{bar}] {self.done}/{self.total} nodes, {self.running} running{extra}")
        self.stream.flush()


def _isatty(stream: object) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except (OSError, ValueError):
        return False


# ---- pod classification --------------------------------------------------------------------------------------

def _container_status(pod: dict[str, Any]) -> dict[str, Any]:
    st = (pod.get("status") or {}).get("containerStatuses") or []
    return st[0] if st and isinstance(st[0], dict) else {}


def classify(pod: dict[str, Any] | None, elapsed: float, timeout: float, limit: str = "") -> tuple[str, str]:
    """``("succeeded", "")``, ``("failed", reason)`` or ``("waiting", "")`` for a node's pod."""
    if pod is None:
        if elapsed > timeout:
            return "failed", f"no pod was created for the job within {timeout:g}s"
        return "waiting", ""
    status = pod.get("status") or {}
    phase = status.get("phase", "Pending")
    cs = _container_status(pod)
    term = (cs.get("state") or {}).get("terminated") or {}
    if phase == "Succeeded":
        return "succeeded", ""
    if phase == "Failed":
        if status.get("reason") == "Evicted":
            return "failed", f"pod evicted: {_one(status.get('message', ''))}".rstrip(": ")
        if term.get("reason") == "OOMKilled":
            return "failed", "agent OOM-killed" + (f" (memory limit {limit})" if limit else "")
        if status.get("reason") == "DeadlineExceeded":
            return "failed", f"timed out: the job's deadline ({timeout:g}s) passed"
        if term:
            code = term.get("exitCode")
            msg = _one(term.get("message") or "")
            return "failed", f"agent failed with exit status {code}" + (f": {msg[-300:]}" if msg else "")
        why = status.get("reason") or "Failed"
        return "failed", f"pod rejected on the node ({why}: {_one(status.get('message', ''))})".replace(": )", ")")
    waiting = (cs.get("state") or {}).get("waiting") or {}
    if waiting.get("reason") in _TERMINAL_WAITING:
        return "failed", f"pod cannot start ({waiting['reason']}: {_one(waiting.get('message', ''))})"
    if elapsed > timeout:
        if phase == "Running":
            return "failed", f"timed out: the agent was still running after {timeout:g}s"
        detail = ""
        if waiting.get("reason"):
            detail = f" ({waiting['reason']}" + (f": {_one(waiting.get('message', ''))}" if waiting.get("message")
                                                 else "") + ")"
        else:
            for c in status.get("conditions") or []:
                if isinstance(c, dict) and c.get("status") == "False" and c.get("reason"):
                    detail = f" ({c.get('type')} {c['reason']}: {_one(c.get('message', ''))})"
                    break
        return "failed", f"pod still Pending after {timeout:g}s{detail}"
    return "waiting", ""


def _one(text: Any) -> str:
    return " ".join(str(text).split())


# ---- the scan ------------------------------------------------------------------------------------------------

@dataclass
class _Active:
    node: NodeResult
    plan: NodePlan
    job: str
    started: float
    seen_pod: bool = False


def node_facts(api: KubeAPI, progress: Progress) -> list[NodeFacts]:
    objs = api.nodes()
    try:
        comps = components_by_node(api.pods("kube-system"))
    except ApiError as exc:
        comps = {}
        progress.message(f"roles from node labels and taints only ({exc})")
    return [NodeFacts.from_api(o, comps.get(str((o.get("metadata") or {}).get("name", "")), ())) for o in objs]


def plan_nodes(facts: list[NodeFacts], server_git: str, opts: ScanOptions) -> tuple[list[NodeResult],
                                                                                    dict[str, NodePlan]]:
    """Every selected node's result skeleton and plan (a node whose benchmark cannot be decided, or that
    is NotReady, is NOT_EVALUATED at once)."""
    from kubecis.benchmark.config import Config

    selected = opts.selection.apply(facts)
    if not selected:
        raise KubecisError("no nodes match the selection (--nodes/--selector/--exclude-nodes)")
    config = Config.load(opts.config_dir)
    available = config.benchmarks()
    results: list[NodeResult] = []
    plans: dict[str, NodePlan] = {}
    for f in selected:
        n = NodeResult(f.name)
        results.append(n)
        try:
            p = plan_node(f, server_git, config, opts.overrides, available)
        except KubecisError as exc:
            n.reason = f"no benchmark: {exc}"
            continue
        n.roles, n.platform, n.benchmark, n.targets = p.roles, p.platform, p.benchmark, p.targets
        n.decisions = list(p.decisions)
        req = requirements(opts.config_dir, p.benchmark, p.targets)
        n.decisions += list(req.reasons)
        if not f.ready:
            n.reason = f"node NotReady: {f.ready_reason}"
            continue
        if not p.targets:
            n.reason = "no node targets selected for this node"
            continue
        if f.unschedulable:
            n.decisions.append("node is cordoned (unschedulable): its pod is pinned with nodeName and still runs")
        plans[f.name] = p
    return results, plans


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Ctrl-C/SIGTERM wait until the cleanup is done (then they act as usual)."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def scan(api: KubeAPI, opts: ScanOptions, progress: Progress, *, policies: PolicySource | None = None,
         eval_options: EvalOptions | None = None, clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> ClusterResult:
    """Scan the selected nodes. ``eval_options`` carries the cluster's name, the time, the waivers and whether
    full results are kept (its benchmark and targets are ignored: each node's come from its plan).

    The cluster-wide targets (policies) are evaluated first, before the scan creates anything: the scan's own
    namespace and privileged node pods are not among the objects they judge."""
    version = api.version()
    git = str(version.get("gitVersion", ""))
    facts = node_facts(api, progress)
    results, plans = plan_nodes(facts, git, opts)
    src = api.t.source
    eval_opts = eval_options if eval_options is not None else EvalOptions(opts.config_dir,
                                                                          cluster=src.context or src.server)
    out = ClusterResult(ClusterInfo("api", eval_opts.cluster, src.server, src.context, git), results,
                        scanned_at=eval_opts.scanned_at)
    _policies(out, plans, opts, api, policies, eval_opts, progress)
    scan_id = secrets.token_hex(4)
    namespace = f"{opts.namespace}-{scan_id}"
    by_name = {n.name: n for n in results}
    queue = [by_name[name] for name in sorted(plans)]
    progress.start(len(results), namespace)
    for n in results:
        if n.name not in plans:
            progress.finished(n)
    created = False
    try:
        if queue:
            api.create_namespace(namespace_object(namespace, scan_id))
            created = True
        active: dict[str, _Active] = {}
        while queue or active:
            while queue and len(active) < max(1, opts.parallel):
                n = queue.pop(0)
                p = plans[n.name]
                req = requirements(opts.config_dir, p.benchmark, p.targets)
                job = job_object(node=n.name, namespace=namespace, scan_id=scan_id, image=opts.image,
                                 benchmark=p.benchmark, targets=p.targets, req=req, timeout=opts.timeout,
                                 pull_policy=opts.pull_policy)
                api.create_job(namespace, job)
                active[n.name] = _Active(n, p, job_name(n.name), clock())
            progress.tick(len(active))
            sleep(opts.poll)
            pods: dict[str, dict[str, Any]] = {}
            for p_obj in api.pods(namespace, f"{LABEL_SCAN}={scan_id}"):
                lbl = ((p_obj.get("metadata") or {}).get("labels") or {}).get(LABEL_NODE, "")
                prev = pods.get(lbl)
                if prev is None or _newer(p_obj, prev):
                    pods[lbl] = p_obj
            live_nodes = {str((o.get("metadata") or {}).get("name", "")): NodeFacts.from_api(o)
                          for o in api.nodes()}
            for name, a in list(active.items()):
                pod = pods.get(node_label(name))
                elapsed = clock() - a.started
                state, reason = classify(pod, elapsed, opts.timeout, RESOURCES["limits"]["memory"])
                nf = live_nodes.get(name)
                if state == "waiting":
                    if nf is None:
                        state, reason = "failed", "the node disappeared during the scan"
                    elif not nf.ready:
                        state, reason = "failed", f"the node became NotReady during the scan ({nf.ready_reason})"
                    elif pod is None and a.seen_pod:
                        state, reason = "failed", "the node's pod was deleted during the scan"
                if pod is not None:
                    a.seen_pod = True
                if state == "waiting":
                    continue
                del active[name]
                if state == "succeeded":
                    _collect(api, namespace, pod, a.node, eval_opts)
                else:
                    a.node.state, a.node.reason = Coverage.NOT_EVALUATED, reason + _last_log_line(api, namespace, pod)
                with contextlib.suppress(KubecisError):
                    api.delete_job(namespace, a.job)
                progress.finished(a.node)
    finally:
        progress.close()
        if created:
            with _signals_blocked():
                try:
                    api.delete_namespace(namespace)
                except KubecisError as exc:
                    sys.stderr.write(f"kubecis: warning: could not delete namespace {namespace} "
                                     f"(delete it by hand): {exc}\n")
    return out


def _last_log_line(api: KubeAPI, namespace: str, pod: dict[str, Any] | None) -> str:
    """What a failed agent said last (one line), when its log can be read."""
    term = (_container_status(pod or {}).get("state") or {}).get("terminated")
    if not term or term.get("reason") == "OOMKilled":
        return ""
    name = str(((pod or {}).get("metadata") or {}).get("name", ""))
    try:
        log = api.pod_log(namespace, name)
    except KubecisError:
        return ""
    lines = [ln.strip() for ln in log.decode("utf-8", "replace").splitlines() if ln.strip()]
    return f" (last log line: {lines[-1][:300]})" if lines else ""


def _newer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ta = str((a.get("metadata") or {}).get("creationTimestamp", ""))
    tb = str((b.get("metadata") or {}).get("creationTimestamp", ""))
    return ta > tb


def _collect(api: KubeAPI, namespace: str, pod: dict[str, Any] | None, node: NodeResult,
             opts: EvalOptions) -> None:
    name = str(((pod or {}).get("metadata") or {}).get("name", ""))
    try:
        log = api.pod_log(namespace, name)
    except KubecisError as exc:
        node.state, node.reason = Coverage.NOT_EVALUATED, f"pod log not readable: {exc}"
        return
    try:
        data = unframe(log)
    except PayloadError as exc:
        node.state, node.reason = Coverage.NOT_EVALUATED, str(exc)
        return
    evaluate_bytes(node.name, data, replace(opts, targets=tuple(node.targets), benchmark=node.benchmark), base=node)
    if not opts.keep_results:
        node.result = None  # the summary (encoded results, states) is what the JSON uses: memory stays flat


def _policies(out: ClusterResult, plans: dict[str, NodePlan], opts: ScanOptions, api: KubeAPI,
              source: PolicySource | None, eval_opts: EvalOptions, progress: Progress) -> None:
    """The cluster-wide targets of the benchmark most nodes are checked against, once, through the API."""
    if not plans:
        out.policies_reason = "no node was scanned"
        return
    bench, _ = Counter(p.benchmark for p in plans.values()).most_common(1)[0]
    targets = next(p.cluster_targets for p in plans.values() if p.benchmark == bench)
    if not targets:
        out.policies_reason = f"no cluster-wide targets for {bench}" + (" (--targets)" if opts.overrides.targets
                                                                         else "")
        return
    out.policies_expected = True
    if source is None:
        from kubecis.host.cluster import LiveCluster

        source = ApiPolicies(LiveCluster(transport=api.t))
    progress.message(f"evaluating {', '.join(targets)} of {bench} once through the API")
    try:
        res, out.policies_reason = source.evaluate(opts.config_dir, bench, targets)
    except KubecisError as exc:
        res, out.policies_reason = None, f"not evaluated: {exc}"
    out.policies = annotate(res, "", eval_opts) if res is not None else None

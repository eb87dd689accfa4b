"""`kubecis cluster scan|manifests|collect`: every node of a cluster, one report.

Only this command loads the ``kubernetes`` client library (through kubecis.host.kubeapi, on first use).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kubecis.cli import args as a
from kubecis.errors import KubecisError, UsageError

if TYPE_CHECKING:
    from kubecis.cluster.api import KubeAPI
    from kubecis.cluster.decide import Overrides
    from kubecis.cluster.evaluate import EvalOptions
    from kubecis.cluster.model import ClusterResult
    from kubecis.cluster.nodes import Selection
    from kubecis.host.cluster import Cluster
    from kubecis.results.waivers import Waiver

DEFAULT_TIMEOUT = 300.0
DEFAULT_PARALLEL = 5


def build(p: argparse.ArgumentParser, name: str) -> None:
    from kubecis.cluster.manifests import DEFAULT_IMAGE

    p.description = ("Every node of a cluster, one report: a least-privilege Job per node records a snapshot, "
                     "which is evaluated centrally into one merged report.")
    sub = p.add_subparsers(title="commands", metavar="COMMAND", dest="subcommand")

    s = sub.add_parser("scan", help="scan the nodes of a cluster through the Kubernetes API",
                       description="Run `kubecis snapshot record` once per selected node (a Job pinned to it, in "
                                   "a namespace the scan creates and removes), bring each snapshot back through "
                                   "the pod log (checksummed), evaluate every node centrally and print one "
                                   "merged report. A node that could not be evaluated is NOT EVALUATED with the "
                                   "reason, never passing. Ctrl-C removes everything the scan created.")
    _api_args(s)
    _select_args(s)
    _bench_args(s)
    s.add_argument("--namespace", default="kubecis", metavar="PREFIX",
                   help="namespace prefix; the scan creates PREFIX-<random> and removes it (default kubecis)")
    s.add_argument("--image", default=DEFAULT_IMAGE, metavar="IMAGE",
                   help=f"the kubecis image the node pods run (default {DEFAULT_IMAGE}; see Containerfile)")
    s.add_argument("--image-pull-policy", choices=("Always", "IfNotPresent", "Never"), default="IfNotPresent")
    s.add_argument("--parallel", type=_positive_int, default=DEFAULT_PARALLEL, metavar="N",
                   help=f"nodes scanned at the same time (default {DEFAULT_PARALLEL})")
    s.add_argument("--timeout", type=a.positive_seconds(1), default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"per node, from its job's creation to its payload (default {DEFAULT_TIMEOUT:g})")
    s.add_argument("--explain", action="store_true",
                   help="print each node's decisions: platform, benchmark, roles, targets, mounts, hostPID")
    _output_args(s)
    s.set_defaults(handler=_scan)

    m = sub.add_parser("manifests", help="print the Namespace and Jobs as YAML (GitOps, air-gapped clusters)",
                       description="Print the Namespace and the per-node Jobs a scan would create, as YAML. "
                                   "Offline with --nodes and --benchmark/--version (targets default to node); "
                                   "otherwise the API fills in nodes, benchmarks and targets. Collect the pod "
                                   "logs or snapshots afterwards with `kubecis cluster collect`.")
    _api_args(m)
    _select_args(m)
    _bench_args(m)
    m.add_argument("--namespace", default="kubecis", metavar="NAME", help="the namespace (default kubecis)")
    m.add_argument("--image", default=DEFAULT_IMAGE, metavar="IMAGE", help="the kubecis image")
    m.add_argument("--image-pull-policy", choices=("Always", "IfNotPresent", "Never"), default="IfNotPresent")
    m.add_argument("--timeout", type=a.positive_seconds(1), default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help="the jobs' activeDeadlineSeconds")
    m.set_defaults(handler=_manifests)

    c = sub.add_parser("collect", help="evaluate snapshots gathered by other means into the merged report",
                       description="Evaluate snapshot files (or saved pod logs holding a framed payload) into the "
                                   "merged report. A node's name is the file's name without its extension "
                                   "(node-a.snap is node-a); an unreadable or corrupt file is that node NOT "
                                   "EVALUATED with the reason. Cluster-wide targets (policies) are evaluated once "
                                   "against --objects DUMP, else taken from the first snapshot that recorded them.")
    c.add_argument("paths", nargs="+", type=a.path_arg, metavar="FILE|DIR")
    a.add_config_dir(c)
    _bench_args(c, replay=True)
    c.add_argument("--jobs", "-j", type=_positive_int, default=0, metavar="N",
                   help="worker processes (default: one per CPU)")
    c.add_argument("--explain", action="store_true", help="print each node's decisions")
    c.add_argument("--objects", type=a.path_arg, metavar="PATH",
                   help="evaluate the cluster-wide targets (policies) once against this object dump (kubectl get "
                        "-A -o json output, YAML/JSON manifests, or a directory of them) instead of taking them "
                        "from a snapshot")
    _output_args(c)
    c.set_defaults(handler=_collect)


def _positive_int(value: str) -> int:
    try:
        n = int(value, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if not 1 <= n <= 1000:
        raise argparse.ArgumentTypeError(f"{value} is out of range (1-1000)")
    return n


def _api_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("cluster access (like kubectl)")
    g.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default $KUBECONFIG, ~/.kube/config, "
                                                        "then the in-cluster service account)")
    g.add_argument("--context", metavar="NAME", help="kubeconfig context (default: its current-context)")


def _select_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("node selection")
    g.add_argument("--nodes", default="", metavar="N1,N2", help="only these nodes")
    g.add_argument("--selector", "-l", default="", metavar="LABELS", help="label selector, e.g. "
                                                                            "node-role.kubernetes.io/control-plane")
    g.add_argument("--exclude-nodes", default="", metavar="N1,N2", help="leave these nodes out")


def _bench_args(p: argparse.ArgumentParser, replay: bool = False) -> None:
    g = p.add_argument_group("benchmark")
    what = "(default: what each snapshot was recorded for)" if replay else "(default: chosen per node)"
    g.add_argument("--benchmark", default="", metavar="NAME", help=f"benchmark for every node {what}")
    g.add_argument("--version", type=a.kube_version, default="", metavar="X.Y",
                   help=f"Kubernetes version mapped to a benchmark {what}")
    g.add_argument("--targets", "-s", default="", metavar="LIST", help=f"targets {what}")


def _output_args(p: argparse.ArgumentParser) -> None:
    from kubecis.cluster.report import FORMATS

    g = p.add_argument_group("output")
    g.add_argument("--format", dest="format", choices=FORMATS, default=None, metavar="FORMAT",
                   help="report format: text (default: per node summary, policies, failures node x check), json "
                        "(the merged JSON, docs/cluster-report.schema.json), junit (kube-bench's suites per node), "
                        "html (one self-contained file: nodes, node x check matrix, every check), sarif (SARIF 2.1.0, "
                        "a run per node), csv (a row per node and check)")
    g.add_argument("--json", dest="json_out", action="store_true", help="the merged JSON report (--format json)")
    g.add_argument("--outputfile", type=a.path_arg, metavar="FILE", help="write the report to FILE (atomically)")
    g.add_argument("--per-node-dir", type=a.path_arg, metavar="DIR",
                   help="also write DIR/<node>.json per evaluated node: what kube-bench prints with --json")
    g.add_argument("--exit-code", type=a.exit_status, default=0, metavar="N",
                   help="exit status when any check FAILs or any node is not evaluated (default 0)")
    g.add_argument("--waivers", type=a.path_arg, metavar="FILE",
                   help="accept findings (docs/waivers.md), applied per node (nodes:, clusters:, benchmarks: "
                        "scopes) and to the policies (namespaces:, objects: against the objects each check lists)")
    g.add_argument("--cluster-name", default=None, metavar="NAME",
                   help="the cluster's name in reports, history and waivers (default: the kubeconfig context for "
                        "scan, none for collect)")
    g.add_argument("--store", nargs="?", const="", default=None, metavar="URL",
                   help="after the report is written, keep every node (evaluated or not) and the policies in a "
                        "history store as one batch: a SQLite path or sqlite:/// URL, or "
                        "postgresql://user@host:port/db; without URL $XDG_DATA_HOME/kubecis/history.db (see "
                        "`kubecis history --batches`, `kubecis diff`)")


def _ids(text: str) -> tuple[str, ...]:
    from kubecis.results.runner import parse_id_list

    return tuple(parse_id_list(text))


def _overrides(ns: argparse.Namespace) -> Overrides:
    from kubecis.cluster.decide import Overrides

    if ns.benchmark and ns.version:
        raise UsageError("It is an error to specify both --version and --benchmark flags")
    return Overrides(ns.benchmark, ns.version, _ids(ns.targets))


def _selection(ns: argparse.Namespace) -> Selection:
    from kubecis.cluster.nodes import Selection, parse_selector

    if ns.selector:
        parse_selector(ns.selector)  # a bad selector fails before anything else
    return Selection(_ids(ns.nodes), ns.selector, _ids(ns.exclude_nodes))


def _check_outputs(ns: argparse.Namespace) -> None:
    from kubecis.cli.common import check_output_path

    if ns.outputfile is not None:
        check_output_path(ns.outputfile)
    d: Path | None = ns.per_node_dir
    if d is not None and not d.is_dir():
        raise UsageError(f"--per-node-dir {d}: not a directory")


def _api(ns: argparse.Namespace) -> KubeAPI:
    from kubecis import __version__
    from kubecis.cluster.api import KubeAPI
    from kubecis.host.kubeapi import KubeTransport

    t = KubeTransport(kubeconfig=ns.kubeconfig, context=ns.context, allow_plugins=True, default=False,
                      user_agent=f"kubecis/{__version__}")
    _ = t.source  # configuration errors (bad file, unknown context) before anything else
    return KubeAPI(t)


@dataclass(slots=True)
class _Outputs:
    """What a cluster command does besides evaluating: its format, waivers and history store (checked before
    anything runs), and when it started."""

    fmt: str
    waivers: list[Waiver] | None
    store: str | None
    cluster: str | None  # --cluster-name (None: not given)
    started: dt.datetime

    @property
    def keep_results(self) -> bool:
        from kubecis.cluster.report import NEEDS_RESULTS

        return self.fmt in NEEDS_RESULTS or self.store is not None

    @property
    def scanned_at(self) -> str:
        return self.started.isoformat(timespec="seconds").replace("+00:00", "Z")

    def eval_options(self, config_dir: Path, cluster: str, **kw: Any) -> EvalOptions:
        from kubecis.cluster.evaluate import EvalOptions

        return EvalOptions(config_dir, cluster=cluster, scanned_at=self.scanned_at,
                           waivers=tuple(self.waivers) if self.waivers is not None else None,
                           today=self.started.date(), keep_results=self.keep_results, **kw)


def _outputs(ns: argparse.Namespace) -> _Outputs:
    from kubecis.cli import outputs

    _check_outputs(ns)
    legacy = "json" if ns.json_out else ""
    if legacy and ns.format not in (None, legacy):
        raise UsageError(f"--json and --format {ns.format} cannot be used together")
    fmt = legacy or ns.format or "text"
    prepared = outputs.Outputs.prepare(fmt=fmt, waivers=ns.waivers, node_name="", cluster=ns.cluster_name or "",
                                       store=ns.store, pgsql=False, asff=False)
    return _Outputs(fmt, prepared.waivers, ns.store, ns.cluster_name, prepared.started)


def _finish(result: ClusterResult, out: _Outputs) -> None:
    """The fleet-wide view of the waivers (what each did over all nodes and the policies), on stderr too."""
    if out.waivers is None:
        return
    from kubecis.results.waivers import merge_uses, summary_lines

    per = [n.summary.waivers for n in result.nodes if n.summary is not None and n.summary.waivers is not None]
    waived = [n.summary.statuses.waived for n in result.nodes if n.summary is not None]
    on_policies = 0
    if result.policies is not None and result.policies.waivers is not None:
        per.append(result.policies.waivers)
        on_policies = result.policies.status_counts.waived
    if not per:  # nothing evaluated: every waiver is unused (or expired)
        from kubecis.results.model import RunResult
        from kubecis.results.waivers import apply

        per = [apply(RunResult(), out.waivers, out.started.date()).waivers or ()]
    result.waivers = merge_uses(per)
    for line in summary_lines(result.waivers, waived=sum(waived) + on_policies, nodes=sum(1 for w in waived if w),
                              policies=on_policies > 0):
        sys.stderr.write(f"kubecis: {line}\n")


def _emit(ns: argparse.Namespace, result: ClusterResult, out: _Outputs) -> int:
    from kubecis.cli.run import write_atomic
    from kubecis.cluster.report import node_json, render, safe_file_name

    if ns.per_node_dir is not None:
        for n in result.nodes:
            if n.evaluated:
                write_atomic(ns.per_node_dir / f"{safe_file_name(n.name)}.json", node_json(n), "--per-node-dir")
    if out.fmt == "json":  # written node by node: never the whole report in memory a second time
        from kubecis.cluster.report import json_head, json_node, json_tail

        with _sink(ns.outputfile) as sink:
            sink.write(json_head(result))
            for i, n in enumerate(result.nodes):
                sink.write(("," if i else "") + json_node(n))
            sink.write(json_tail(result))
        return _deliver(ns, result, out)
    tty = ns.outputfile is None and _isatty(sys.stdout)
    text = render(out.fmt, result, explain=getattr(ns, "explain", False), escape=tty)
    if ns.outputfile is not None:
        write_atomic(ns.outputfile, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return _deliver(ns, result, out)


def _deliver(ns: argparse.Namespace, result: ClusterResult, out: _Outputs) -> int:
    """After the report is written: the history store (a failure is one line and exit 1; the report stays)."""
    if out.store is not None:
        from kubecis.cluster.history import save

        batch, n = save(result, out.store)
        sys.stderr.write(f"kubecis: stored {n} scans as batch {batch} in {_shown(out.store)}\n")
    return _exit_status(ns, result)


def _shown(url: str) -> str:
    from kubecis.store import display_url

    return display_url(url)


def _isatty(stream: object) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except (OSError, ValueError):
        return False


def _bundled() -> Path:
    from kubecis.benchmark.bundled import materialise

    return materialise()


def _scan(ns: argparse.Namespace) -> int:
    from kubecis.cluster.scan import BarProgress, Progress, ScanOptions, scan

    out = _outputs(ns)
    opts = ScanOptions(config_dir=_bundled(), image=ns.image, namespace=_dns_label(ns.namespace, "--namespace", 54),
                       parallel=ns.parallel, timeout=ns.timeout, selection=_selection(ns),
                       overrides=_overrides(ns), pull_policy=ns.image_pull_policy)
    api = _api(ns)
    src = api.t.source
    name = src.context or src.server if out.cluster is None else out.cluster
    progress = BarProgress() if _isatty(sys.stderr) else Progress()
    result = scan(api, opts, progress, eval_options=out.eval_options(opts.config_dir, name))
    _finish(result, out)
    return _emit(ns, result, out)


def _dns_label(value: str, flag: str, limit: int = 63) -> str:
    import re

    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value) or len(value) > limit:
        raise UsageError(f"{flag} {value!r}: not a DNS label (lower-case letters, digits, '-'; at most {limit})")
    return value


def _manifests(ns: argparse.Namespace) -> int:
    from kubecis.benchmark.config import Config
    from kubecis.cluster.manifests import job_object, namespace_object, requirements, to_yaml

    cfg = _bundled()
    namespace = _dns_label(ns.namespace, "--namespace")
    ov = _overrides(ns)
    nodes = _ids(ns.nodes)
    offline = bool(nodes) and bool(ns.benchmark or ns.version) and not ns.selector
    plans: list[tuple[str, str, list[str]]] = []
    if offline:
        from kubecis.benchmark.versions import lookup

        config = Config.load(cfg)
        bench = ns.benchmark or lookup(config.version_mapping(), ns.version)
        if bench not in config.benchmarks():
            raise UsageError(f"unknown benchmark {bench!r}; available: {', '.join(config.benchmarks())}")
        allowed = config.targets_for(bench)
        targets = list(ov.targets) or ["node"]
        bad = [t for t in targets if t not in allowed]
        if bad:
            raise UsageError(f"--targets {','.join(targets)}: not configured for {bench} (valid: {', '.join(allowed)})")
        plans = [(n, bench, targets) for n in nodes if n not in _ids(ns.exclude_nodes)]
    else:
        from kubecis.cluster.scan import Progress, ScanOptions, node_facts, plan_nodes

        api = _api(ns)
        git = str(api.version().get("gitVersion", ""))
        opts = ScanOptions(config_dir=cfg, image=ns.image, selection=_selection(ns), overrides=ov)
        results, node_plans = plan_nodes(node_facts(api, Progress()), git, opts)
        for r in results:
            if r.name not in node_plans:
                sys.stderr.write(f"kubecis: warning: {r.name}: no job ({r.reason})\n")
        plans = [(p.node, p.benchmark, p.targets) for p in node_plans.values()]
    objs = [namespace_object(namespace, "manifests")]
    for node, bench, targets in plans:
        req = requirements(cfg, bench, targets)
        objs.append(job_object(node=node, namespace=namespace, scan_id="manifests", image=ns.image,
                               benchmark=bench, targets=targets, req=req, timeout=ns.timeout,
                               pull_policy=ns.image_pull_policy))
    sys.stdout.write(to_yaml(objs))
    return 0


def _collect(ns: argparse.Namespace) -> int:
    from kubecis.cli.common import load_objects, resolve_config_dir
    from kubecis.cli.run import write_atomic
    from kubecis.cluster.evaluate import evaluate_files, snapshot_files
    from kubecis.cluster.model import ClusterInfo, ClusterResult

    out = _outputs(ns)
    if ns.benchmark and ns.version:
        raise UsageError("It is an error to specify both --version and --benchmark flags")
    for p in ns.paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or directory")
    cfg = resolve_config_dir(ns.config_dir)
    files = snapshot_files(ns.paths)
    if not files:
        raise UsageError("no snapshot files in " + ", ".join(str(p) for p in ns.paths))
    objects = load_objects(ns.objects)  # a bad dump is one line, before anything is evaluated
    name = out.cluster or ""
    opts = out.eval_options(cfg, name, benchmark=ns.benchmark, version=ns.version, targets=_ids(ns.targets))
    label = ", ".join("example fleet" if p == FLEET_DIR else str(p) for p in ns.paths)
    result = ClusterResult(ClusterInfo("snapshots", name=name, label=label), scanned_at=out.scanned_at)
    if out.fmt != "json":
        result.nodes = list(evaluate_files(files, opts, ns.jobs))
        _policies_for_collect(result, files, cfg, objects, ns, opts)
        _finish(result, out)
        return _emit(ns, result, out)
    # JSON: streamed, node by node, as the workers finish (memory does not grow with the fleet)
    from kubecis.cluster.report import json_head, json_node, json_tail, node_json, safe_file_name

    with _sink(ns.outputfile) as sink:
        sink.write(json_head(result))
        for i, n in enumerate(evaluate_files(files, opts, ns.jobs)):
            result.nodes.append(n)
            sink.write(("," if i else "") + json_node(n))
            if ns.per_node_dir is not None and n.evaluated:
                write_atomic(ns.per_node_dir / f"{safe_file_name(n.name)}.json", node_json(n), "--per-node-dir")
            if n.summary is not None:
                n.summary.json = ""  # written: keep only what the totals need
        _policies_for_collect(result, files, cfg, objects, ns, opts)
        _finish(result, out)
        sink.write(json_tail(result))
    return _deliver(ns, result, out)


def _policies_for_collect(result: ClusterResult, files: list[Path], cfg: Path, objects: Cluster | None,
                          ns: argparse.Namespace, opts: EvalOptions) -> None:
    """Once for the cluster: against --objects, else from the first snapshot that recorded them."""
    from collections import Counter

    from kubecis.cluster.evaluate import ApiPolicies, PolicySource, annotate, cluster_targets, find_policy_snapshot

    benches = Counter(n.benchmark for n in result.nodes if n.benchmark)
    bench = ns.benchmark or (benches.most_common(1)[0][0] if benches else "")
    source: PolicySource
    targets: list[str] = []
    if objects is not None:
        if not bench:
            result.policies_reason = "not evaluated: no node was evaluated, so no benchmark is known (--benchmark)"
            result.policies_expected = True
            return
        targets = cluster_targets(cfg, bench, _ids(ns.targets))
        what = ("the example cluster's API objects" if ns.objects == EXAMPLE_OBJECTS
                else f"the object dump {ns.objects}")
        source = ApiPolicies(objects, what)
        result.policies_expected = bool(targets)
    else:
        source = find_policy_snapshot([f for f, n in zip(files, result.nodes, strict=True)
                                       if n.recorded_cluster_targets])
    try:
        res, result.policies_reason = source.evaluate(cfg, bench, targets)
    except KubecisError as exc:
        res, result.policies_reason = None, f"not evaluated: {exc}"
    result.policies = annotate(res, "", opts) if res is not None else None


def _exit_status(ns: argparse.Namespace, result: ClusterResult) -> int:
    if ns.exit_code and (result.failed() or result.not_evaluated):
        return int(ns.exit_code)
    return 0


@contextlib.contextmanager
def _sink(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or a temp file beside ``path`` renamed over it at the end (never half-written)."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    import os
    import tempfile

    from kubecis.errors import OutputError

    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as e:
        raise OutputError(f"--outputfile {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            yield f
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"--outputfile {path}: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


FLEET_DIR = Path(__file__).resolve().parents[1] / "data" / "examples" / "fleet"


EXAMPLE_OBJECTS = FLEET_DIR.parent / "cluster-objects.yaml"


def demo(ns: argparse.Namespace) -> int:
    """`kubecis demo --cluster`: the example fleet (recorded from hermetic nodes the way a scan records them)
    through `cluster collect`, with the bundled definitions, and the policies against the example cluster's
    API objects (an object dump shipped with the package)."""
    for flag, given in (("--pgsql", ns.pgsql), ("--asff", ns.asff), ("--node-name", ns.node_name)):
        if given:
            raise UsageError(f"{flag} is for a node's report; `demo --cluster` shows a cluster's")
    fmt = getattr(ns, "format", None)
    if fmt == "asff":
        raise UsageError("--format asff is for a node's report; `demo --cluster` shows a cluster's")
    cns = argparse.Namespace(paths=[FLEET_DIR], config_dir=_bundled(), benchmark="", version="", targets="",
                             jobs=1, explain=False, json_out=ns.json_out, format=fmt, outputfile=ns.outputfile,
                             per_node_dir=None, exit_code=0, waivers=ns.waivers, cluster_name="example",
                             store=ns.store, objects=EXAMPLE_OBJECTS)
    return _collect(cns)

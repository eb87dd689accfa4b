"""`kubecis cluster scan|manifests|collect`: every node of a cluster, one report.

Only this command loads the ``kubernetes`` client library (through kubecis.host.kubeapi, on first use).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kubecis.cli import args as a
from kubecis.errors import UsageError

if TYPE_CHECKING:
    from kubecis.cluster.api import KubeAPI
    from kubecis.cluster.decide import Overrides
    from kubecis.cluster.model import ClusterResult
    from kubecis.cluster.nodes import Selection

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
                                   "EVALUATED with the reason. Cluster-wide targets (policies) come from the "
                                   "first snapshot that recorded them.")
    c.add_argument("paths", nargs="+", type=a.path_arg, metavar="FILE|DIR")
    a.add_config_dir(c)
    _bench_args(c, replay=True)
    c.add_argument("--jobs", "-j", type=_positive_int, default=0, metavar="N",
                   help="worker processes (default: one per CPU)")
    c.add_argument("--explain", action="store_true", help="print each node's decisions")
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
    g = p.add_argument_group("output")
    g.add_argument("--json", action="store_true", help="the merged JSON report (docs/cluster-report.schema.json)")
    g.add_argument("--outputfile", type=a.path_arg, metavar="FILE", help="write the report to FILE (atomically)")
    g.add_argument("--per-node-dir", type=a.path_arg, metavar="DIR",
                   help="also write DIR/<node>.json per evaluated node: what kube-bench prints with --json")
    g.add_argument("--exit-code", type=a.exit_status, default=0, metavar="N",
                   help="exit status when any check FAILs or any node is not evaluated (default 0)")


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


def _emit(ns: argparse.Namespace, result: ClusterResult) -> int:
    from kubecis.cli.run import write_atomic
    from kubecis.cluster.report import node_json, render_json, render_text, safe_file_name

    tty = ns.outputfile is None and _isatty(sys.stdout)
    text = render_json(result) if ns.json else render_text(result, explain=getattr(ns, "explain", False),
                                                              escape=tty)
    if ns.per_node_dir is not None:
        for n in result.nodes:
            if n.evaluated:
                write_atomic(ns.per_node_dir / f"{safe_file_name(n.name)}.json", node_json(n), "--per-node-dir")
    if ns.outputfile is not None:
        write_atomic(ns.outputfile, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return _exit_status(ns, result)


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

    _check_outputs(ns)
    opts = ScanOptions(config_dir=_bundled(), image=ns.image, namespace=_dns_label(ns.namespace, "--namespace", 54),
                       parallel=ns.parallel, timeout=ns.timeout, selection=_selection(ns),
                       overrides=_overrides(ns), pull_policy=ns.image_pull_policy)
    api = _api(ns)
    progress = BarProgress() if _isatty(sys.stderr) else Progress()
    result = scan(api, opts, progress)
    return _emit(ns, result)


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
    from kubecis.cli.common import resolve_config_dir
    from kubecis.cli.run import write_atomic
    from kubecis.cluster.evaluate import EvalOptions, evaluate_files, snapshot_files
    from kubecis.cluster.model import ClusterInfo, ClusterResult

    _check_outputs(ns)
    if ns.benchmark and ns.version:
        raise UsageError("It is an error to specify both --version and --benchmark flags")
    for p in ns.paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or directory")
    cfg = resolve_config_dir(ns.config_dir)
    files = snapshot_files(ns.paths)
    if not files:
        raise UsageError("no snapshot files in " + ", ".join(str(p) for p in ns.paths))
    opts = EvalOptions(cfg, ns.benchmark, ns.version, _ids(ns.targets))
    result = ClusterResult(ClusterInfo("snapshots", name=", ".join(
        "example fleet" if p == FLEET_DIR else str(p) for p in ns.paths)))
    if not ns.json:
        result.nodes = list(evaluate_files(files, opts, ns.jobs))
        _policies_from_snapshots(result, files, cfg)
        return _emit(ns, result)
    # JSON: streamed, node by node, as the workers finish (memory does not grow with the fleet)
    from kubecis.cluster.report import json_head, json_node, json_tail, node_json, safe_file_name

    with _sink(ns.outputfile) as out:
        out.write(json_head(result))
        for i, n in enumerate(evaluate_files(files, opts, ns.jobs)):
            result.nodes.append(n)
            out.write(("," if i else "") + json_node(n))
            if ns.per_node_dir is not None and n.evaluated:
                write_atomic(ns.per_node_dir / f"{safe_file_name(n.name)}.json", node_json(n), "--per-node-dir")
            if n.summary is not None:
                n.summary.json = ""  # written: keep only what the totals need
        _policies_from_snapshots(result, files, cfg)
        out.write(json_tail(result))
    return _exit_status(ns, result)


def _policies_from_snapshots(result: ClusterResult, files: list[Path], cfg: Path) -> None:
    from kubecis.cluster.evaluate import find_policy_snapshot

    pol = find_policy_snapshot(files)
    bench = next((n.benchmark for n in result.nodes if n.benchmark), "")
    result.policies, result.policies_reason = pol.evaluate(cfg, bench, ())


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


def demo(*, json_out: bool = False) -> int:
    """`kubecis demo --cluster`: the example fleet (recorded from hermetic nodes the way a scan records them)
    through `cluster collect`, with the bundled definitions."""
    ns = argparse.Namespace(paths=[FLEET_DIR], config_dir=_bundled(), benchmark="", version="", targets="",
                            jobs=1, explain=False, json=json_out, outputfile=None, per_node_dir=None, exit_code=0)
    return _collect(ns)

"""`kubecis snapshot record`: run the checks natively on this host and record every host query they made.

The file replays anywhere with ``kubecis run --snapshot FILE`` (same definitions), giving identical
results. Private key material is redacted before anything is written (see kubecis.host.snapshot).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from kubecis.cli import args as a
from kubecis.cli.common import echo
from kubecis.errors import HostError

if TYPE_CHECKING:
    from kubecis.host.base import Host


def build(p: argparse.ArgumentParser, name: str) -> None:
    sub = p.add_subparsers(title="commands", metavar="COMMAND", dest="subcommand")
    r = sub.add_parser("record", help="run the checks natively on this node and record what they read",
                       description="Run the checks natively (no process is started) and record every host query "
                                   "they make into OUTPUT (gzip JSON, secrets redacted), and the cluster API answers "
                                   "the kubectl audits and probes read (from --objects PATH instead of the live "
                                   "cluster when given). Replay it anywhere with `kubecis run --snapshot OUTPUT`.")
    r.add_argument("--output", "-o", type=a.path_arg, required=True, metavar="FILE",
                   help="snapshot file to write (gzip JSON); '-': standard output, framed and checksummed for "
                        "transport through a pod log (what `kubecis cluster scan` runs on each node)")
    r.add_argument("--only-paths", default="", metavar="LIST",
                   help="record only node paths under these comma-separated directories or files ('/proc': the "
                        "process table); other paths are left out, so replay reports them as not recorded (a "
                        "cluster scan's pod sees only its read-only hostPath mounts)")
    r.add_argument("--absent-paths", default="", metavar="LIST",
                   help="with --only-paths: node paths of other distributions, answered 'no such file' without "
                        "looking (a scan does not mount them)")
    a.add_selection(r, targets_help="comma-separated targets (default: detect the node's roles)")
    a.add_objects(r)
    r.set_defaults(handler=record)


def save_document(doc: dict[str, object], path: Path) -> None:
    """gzip JSON, written to a temp file and renamed: never a half-written snapshot."""
    parent = path.parent if str(path.parent) else Path(".")
    data = json.dumps(doc, separators=(",", ":")).encode()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as e:
        raise HostError(f"cannot write snapshot {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise HostError(f"cannot write snapshot {path}: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record(ns: argparse.Namespace) -> int:
    """Run the checks natively (no process is started) and record the host queries into OUTPUT."""
    from kubecis.audit.native import NativeExecutor
    from kubecis.cli.common import check_output_path, load_objects, resolve_config_dir
    from kubecis.engine import PlanRequest, make_plan, run_plan
    from kubecis.host.live import LiveHost
    from kubecis.host.snapshot import RecordingHost
    from kubecis.results.runner import Filters, parse_id_list

    output: Path = ns.output
    to_stdout = str(output) == "-"
    if not to_stdout:
        check_output_path(output, "--output")  # fail before recording anything
    objects = load_objects(ns.objects)
    live: Host = LiveHost()
    if ns.only_paths:
        from kubecis.host.scoped import ScopedHost
        from kubecis.results.runner import parse_id_list as _paths

        live = ScopedHost(live, _paths(ns.only_paths), _paths(ns.absent_paths))
    rec = RecordingHost(live)
    plan = make_plan(
        PlanRequest(resolve_config_dir(ns.config_dir), ns.benchmark, ns.version, tuple(parse_id_list(ns.targets)),
                    allow_tools=False),
        rec,
    )
    from kubecis.host.cluster import LiveCluster, RecordingCluster

    # kubectl/oc and probe answers go into the same document (from the dump with --objects: replayed the same)
    cluster = RecordingCluster(objects if objects is not None else LiveCluster(), rec.entries)
    result = run_plan(plan, NativeExecutor(rec, cluster=cluster), Filters())
    doc = rec.document()
    doc["recorded"] = {"benchmark": plan.selection.benchmark, "targets": [t.target for t in plan.targets]}
    t = result.totals
    summary = (f"recorded {len(rec.entries)} host queries ({plan.selection.benchmark}: "
               f"{t.pass_} pass, {t.fail} fail, {t.warn} warn, {t.info} info) to {'stdout' if to_stdout else output}")
    if to_stdout:
        import sys

        from kubecis.cluster.payload import frame

        data = gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), mtime=0)
        sys.stderr.write(summary + "\n")
        sys.stderr.flush()
        sys.stdout.buffer.write(frame(data))
        sys.stdout.flush()
        return 0
    save_document(doc, output)
    echo(summary)
    return 0

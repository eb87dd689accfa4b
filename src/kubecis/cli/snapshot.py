"""`kubecis snapshot record`: run the checks natively on this host and record every host query they made.

The file replays anywhere with ``kubecis run --snapshot FILE`` (same definitions), giving identical
results. Private key material is redacted before anything is written (see kubecis.host.snapshot).
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from kubecis.audit.native import NativeExecutor
from kubecis.cli.common import check_output_path, resolve_config_dir
from kubecis.engine import PlanRequest, make_plan, run_plan
from kubecis.errors import HostError
from kubecis.host.live import LiveHost
from kubecis.host.snapshot import RecordingHost
from kubecis.results.runner import Filters, parse_id_list

app = typer.Typer(help="Record a node once, evaluate it anywhere.", no_args_is_help=True)


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


@app.command("record")
def record(
    output: Annotated[Path, typer.Option("--output", "-o", help="Snapshot file to write (gzip JSON).")],
    targets: Annotated[str, typer.Option("--targets", "-s", help="Comma-separated targets (default: detect).")] = "",
    config_dir: Annotated[Path | None, typer.Option("--config-dir", "-D", help="Benchmark definitions root.")] = None,
    benchmark: Annotated[str, typer.Option("--benchmark", help="Benchmark name.")] = "",
    version: Annotated[str, typer.Option("--version", envvar="KUBE_BENCH_VERSION",
                                         help="Kubernetes version X.Y.")] = "",
) -> int:
    """Run the checks natively (no process is started) and record the host queries into OUTPUT."""
    check_output_path(output, "--output")  # fail before recording anything
    rec = RecordingHost(LiveHost())
    plan = make_plan(
        PlanRequest(resolve_config_dir(config_dir), benchmark, version, tuple(parse_id_list(targets)),
                    allow_tools=False),
        rec,
    )
    from kubecis.host.cluster import LiveCluster, RecordingCluster

    cluster = RecordingCluster(LiveCluster(), rec.entries)  # kubectl/oc answers go into the same document
    result = run_plan(plan, NativeExecutor(rec, cluster=cluster), Filters())
    doc = rec.document()
    doc["recorded"] = {"benchmark": plan.selection.benchmark, "targets": [t.target for t in plan.targets]}
    save_document(doc, output)
    t = result.totals
    typer.echo(f"recorded {len(rec.entries)} host queries ({plan.selection.benchmark}: "
               f"{t.pass_} pass, {t.fail} fail, {t.warn} warn, {t.info} info) to {output}")
    return 0

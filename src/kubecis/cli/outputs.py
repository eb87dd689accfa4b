"""`run`'s report formats beyond kube-bench's, waivers, and the sinks (--store, --pgsql, --asff).

Order of work in a run: everything a sink or the waivers need is checked before the first check runs
(waivers file, PostgreSQL environment, AWS settings and SDK, store URL); after the report has been written
the sinks are fed one after the other, each failure is one line, and the exit status is 1 if any failed.
So a sink that cannot be reached never costs the report. Nothing here imports a database driver, jinja2
or boto3 unless the option that needs it was given.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubecis.cli import args as a
from kubecis.errors import KubecisError, SinkError, UsageError
from kubecis.records import dataclass

if TYPE_CHECKING:
    import datetime as dt

    from kubecis.host.base import Host
    from kubecis.report.options import AsffSettings
    from kubecis.results.model import RunResult
    from kubecis.results.waivers import Waiver
    from kubecis.sinks.pgsql import PgsqlSettings

FORMATS = ("text", "json", "junit", "html", "sarif", "csv", "asff")


def add_arguments(p: argparse.ArgumentParser, out: argparse._ArgumentGroup, *, cluster_name: bool = True) -> None:
    """--format, --waivers, --node-name, --cluster NAME (unless ``cluster_name`` is false: `demo --cluster`
    means the example fleet), and the sinks group."""
    out.add_argument("--format", dest="format", choices=FORMATS, default=None, metavar="FORMAT",
                     help="report format: text (default), json, junit (kube-bench's), html (one self-contained "
                          "file), sarif (SARIF 2.1.0), csv (one row per check), asff (Security Hub findings "
                          "JSON, not sent). --json and --junit are the same as json and junit")
    out.add_argument("--waivers", type=a.path_arg, metavar="FILE",
                     help="accept findings: a YAML file of waivers (reason, owner, expiry, scope); a waived "
                          "check is INFO in kube-bench's formats and WAIVED in kubecis's (docs/waivers.md)")
    out.add_argument("--node-name", default="", metavar="NAME",
                     help="this node's name in reports, history, waivers and ASFF ids (default: env "
                          "KUBE_BENCH_NODE_NAME or NODE_NAME, else the host name)")
    if cluster_name:
        out.add_argument("--cluster", dest="cluster_name", default="", metavar="NAME",
                         help="the cluster's name in reports, history and waivers (default: none)")
    sinks = p.add_argument_group("results also sent to (after the report is written)")
    sinks.add_argument("--store", nargs="?", const="", default=None, metavar="URL",
                       help="keep this run in a history store: a SQLite path or sqlite:/// URL, or "
                            "postgresql://user:password@host:port/db; without URL the SQLite file "
                            "$XDG_DATA_HOME/kubecis/history.db (see `kubecis history`, `kubecis diff`)")
    sinks.add_argument("--pgsql", action="store_true",
                       help="insert the results into PostgreSQL as kube-bench does (KUBE_BENCH_PGSQL_HOST, "
                            "_USER, _DBNAME, _SSLMODE, _PASSWORD; table scan_results)")
    sinks.add_argument("--asff", action="store_true",
                       help="send FAIL/WARN findings to AWS Security Hub (AWS_ACCOUNT, AWS_REGION, CLUSTER_ARN; "
                            "needs pip install 'kubecis[aws]')")


def format_from(ns: argparse.Namespace) -> str:
    """The report format: --junit wins over --json (kube-bench), either conflicts with another --format."""
    legacy = "junit" if getattr(ns, "junit_out", False) else "json" if getattr(ns, "json_out", False) else ""
    chosen: str | None = getattr(ns, "format", None)
    if legacy and chosen not in (None, legacy):
        raise UsageError(f"--{legacy} and --format {chosen} cannot be used together")
    return legacy or chosen or "text"


def options_from(ns: argparse.Namespace) -> dict[str, Any]:
    """The RunOptions fields this module owns."""
    return {"fmt": format_from(ns), "waivers": ns.waivers, "node_name": ns.node_name,
            "cluster": getattr(ns, "cluster_name", ""),
            "store": ns.store, "pgsql": ns.pgsql, "asff": ns.asff}


def _now() -> dt.datetime:
    import datetime as dt  # datetime costs start-up; only the sinks read the time

    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class Outputs:
    """What one run does besides rendering kube-bench's formats. Built before the checks run."""

    fmt: str = "text"
    waivers: list[Waiver] | None = None
    node_name: str = ""
    cluster: str = ""
    store: str | None = None
    pgsql: PgsqlSettings | None = None
    asff: bool = False
    asff_settings: AsffSettings | None = None
    started: dt.datetime = field(default_factory=lambda: _now())

    @classmethod
    def prepare(cls, *, fmt: str, waivers: Path | None, node_name: str, cluster: str, store: str | None,
                pgsql: bool, asff: bool) -> Outputs:
        """Check everything that can be checked before a single audit runs."""
        out = cls(fmt=fmt, node_name=node_name, cluster=cluster, store=store, asff=asff)
        if waivers is not None:
            from kubecis.results.waivers import load

            out.waivers = load(waivers)
        if store is not None:
            from kubecis.store import normalize_url

            normalize_url(store)  # a URL we cannot use is a usage error now, not after the run
        if pgsql:
            from kubecis.sinks.pgsql import settings_from_env

            out.pgsql = settings_from_env()
        if asff:
            from kubecis.sinks.asff import check_sdk

            check_sdk()
        return out

    @property
    def active(self) -> bool:
        return self.fmt in ("html", "sarif", "csv", "asff") or bool(
            self.waivers is not None or self.store is not None or self.pgsql or self.asff)

    def configure(self, config_get: Any) -> None:
        """After the benchmark is chosen (its config.yaml may hold the AWS settings), before the checks run."""
        if self.asff or self.fmt == "asff":
            from kubecis.sinks.asff import require

            self.asff_settings = require(config_get)

    def annotate(self, result: RunResult, host: Host) -> RunResult:
        """The results with who and when (node, cluster, time) and the waivers applied."""
        node = (self.node_name or os.environ.get("KUBE_BENCH_NODE_NAME") or os.environ.get("NODE_NAME")
                or _host_name(host))
        result = replace(result, node=node, cluster=self.cluster,
                         scanned_at=self.started.isoformat(timespec="seconds").replace("+00:00", "Z"))
        if self.waivers is not None:
            from kubecis.results.waivers import apply

            result = apply(result, self.waivers, self.started.date())
        return result

    def report_notes(self, result: RunResult) -> None:
        """What the waivers did, on stderr (kube-bench's formats have no place for it)."""
        if result.waivers is not None:
            from kubecis.results.waivers import summary_lines

            for line in summary_lines(result.waivers):
                sys.stderr.write(f"kubecis: {line}\n")

    def deliver(self, result: RunResult) -> None:
        """Feed every sink; all are tried, each failure is one line, then SinkError (exit 1) if any failed."""
        failures: list[str] = []
        if self.store is not None:
            try:
                from kubecis.store import Store

                with Store.open(self.store) as store:
                    scan_id = store.save(result)
                sys.stderr.write(f"kubecis: stored as scan {scan_id} in {store.url}\n")
            except KubecisError as e:  # every sink failure is reported, none stops the others
                failures.append(_line(e))
        if self.pgsql is not None:
            try:
                from kubecis.sinks.pgsql import save

                n = save(result, self.pgsql)
                sys.stderr.write(f"kubecis: {n} rows inserted into scan_results ({self.pgsql.host})\n")
            except KubecisError as e:
                failures.append(_line(e))
        if self.asff and self.asff_settings is not None:
            try:
                from kubecis.report.asff import findings
                from kubecis.sinks.asff import send

                send(findings(result, self.asff_settings), self.asff_settings.region)
            except KubecisError as e:
                failures.append(_line(e))
        if failures:
            raise SinkError("\n".join(failures))


def _host_name(host: Host) -> str:
    try:
        return host.name
    except Exception:
        return ""


def _line(e: KubecisError) -> str:
    lines = str(e).splitlines()
    return lines[0] if lines else type(e).__name__

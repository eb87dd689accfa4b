"""`kubecis history`: the scans kept in a history store (`kubecis run --store`)."""

from __future__ import annotations

import argparse
import json
import sys

from kubecis.cli.common import echo


def add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default="", metavar="URL",
                   help="the history store: a SQLite path or sqlite:/// URL, or "
                        "postgresql://user:password@host:port/db (default: the SQLite file `kubecis run "
                        "--store` writes, $XDG_DATA_HOME/kubecis/history.db)")
    p.add_argument("--cluster", default=None, metavar="NAME", help="only scans of this cluster")
    p.add_argument("--node", default=None, metavar="NAME", help="only scans of this node")


def build(p: argparse.ArgumentParser, name: str) -> None:
    p.description = ("List the scans kept in a history store, newest first: id, time, cluster, node, benchmark "
                     "and totals (PASS FAIL WARN INFO WAIVED).")
    add_store(p)
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N scans (default 50; 0: all)")
    p.add_argument("--json", action="store_true", help="JSON: {\"scans\": [...]}")
    p.set_defaults(handler=history_cmd)


def history_cmd(ns: argparse.Namespace) -> int:
    from kubecis.store import Store

    with Store.open(ns.store, create=False) as store:
        scans = store.scans(cluster=ns.cluster, node=ns.node, limit=ns.limit if ns.limit > 0 else None)
    if ns.json:
        sys.stdout.write(json.dumps({"scans": [s.to_dict() for s in scans]}, indent=2) + "\n")
        return 0
    if not scans:
        echo("no scans")
        return 0
    echo(f"{'ID':>5}  {'TIME':<20}  {'CLUSTER':<12}  {'NODE':<20}  {'BENCHMARK':<14}  "
         f"{'PASS':>5} {'FAIL':>5} {'WARN':>5} {'INFO':>5} {'WAIVED':>6}")
    for s in scans:
        c = s.counts
        echo(f"{s.id:>5}  {s.scanned_at:<20}  {s.cluster or '-':<12}  {s.node or '-':<20}  {s.benchmark:<14}  "
             f"{c.pass_:>5} {c.fail:>5} {c.warn:>5} {c.info:>5} {c.waived:>6}")
    return 0

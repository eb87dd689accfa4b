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
                     "and totals (PASS FAIL WARN INFO WAIVED); a node a cluster scan could not evaluate with the "
                     "reason. --batches lists batches instead (a cluster scan or collect is one batch of all its "
                     "nodes): id, time, cluster, nodes evaluated, totals.")
    add_store(p)
    p.add_argument("--limit", type=int, default=50, metavar="N", help="at most N scans (default 50; 0: all)")
    p.add_argument("--batches", action="store_true", help="list batches, not scans")
    p.add_argument("--json", action="store_true", help="JSON: {\"scans\": [...]} (--batches: {\"batches\": [...]})")
    p.set_defaults(handler=history_cmd)


def history_cmd(ns: argparse.Namespace) -> int:
    from kubecis.store import CLUSTER, Store

    limit = ns.limit if ns.limit > 0 else None
    if ns.batches:
        return _batches(ns, limit)
    with Store.open(ns.store, create=False) as store:
        scans = store.scans(cluster=ns.cluster, node=ns.node, limit=limit)
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
        node = "(cluster-wide)" if s.scope == CLUSTER else s.node or "-"
        head = f"{s.id:>5}  {s.scanned_at:<20}  {s.cluster or '-':<12}  {node:<20}  {s.benchmark or '-':<14}  "
        if s.evaluated:
            echo(head + f"{c.pass_:>5} {c.fail:>5} {c.warn:>5} {c.info:>5} {c.waived:>6}")
        else:
            echo(head + f"{'-':>5} {'-':>5} {'-':>5} {'-':>5} {'-':>6}  NOT EVALUATED: {s.reason}")
    return 0


def _batches(ns: argparse.Namespace, limit: int | None) -> int:
    from kubecis.store import Store

    if ns.node is not None:
        from kubecis.errors import UsageError

        raise UsageError("--node lists scans, not batches (use --cluster with --batches)")
    with Store.open(ns.store, create=False) as store:
        batches = store.batches(cluster=ns.cluster, limit=limit)
    if ns.json:
        sys.stdout.write(json.dumps({"batches": [b.to_dict() for b in batches]}, indent=2) + "\n")
        return 0
    if not batches:
        echo("no batches")
        return 0
    echo(f"{'BATCH':<12}  {'TIME':<20}  {'CLUSTER':<12}  {'ORIGIN':<7}  {'NODES':>11}  "
         f"{'PASS':>6} {'FAIL':>6} {'WARN':>6} {'INFO':>6} {'WAIVED':>6}")
    for b in batches:
        c = b.counts
        echo(f"{b.id[:12]:<12}  {b.scanned_at:<20}  {b.cluster or '-':<12}  {b.origin:<7}  "
             f"{f'{b.evaluated} of {b.nodes}':>11}  {c.pass_:>6} {c.fail:>6} {c.warn:>6} {c.info:>6} {c.waived:>6}")
    return 0

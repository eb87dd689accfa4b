"""`kubecis diff [A B]`: what changed between two stored scans, per node and check; or between two batches of a
cluster scan, per node (``--batches``)."""

from __future__ import annotations

import argparse
import json
import sys

from kubecis.cli import args as a
from kubecis.cli.history import add_store
from kubecis.errors import StoreError, UsageError


def build(p: argparse.ArgumentParser, name: str) -> None:
    p.description = ("Show what changed between two scans of a history store: checks newly failing, fixed, newly "
                     "not evaluated, newly waived, other status changes, and whether the benchmark changed. "
                     "Between two batches of a cluster scan or collect (--batches A B, ids or unique prefixes from "
                     "`kubecis history --batches`), the same per node, plus the nodes newly not evaluated (with "
                     "the reason), evaluated again, added or removed, and the cluster-wide policies. Without A "
                     "and B: the last two cluster batches when the newest scan (of --cluster) is a node of one, "
                     "else the last two scans of the node of the newest scan (or of --node / --cluster).")
    p.add_argument("scans", nargs="*", metavar="SCAN",
                   help="two scan ids (see `kubecis history`), or with --batches two batch ids: from, to")
    p.add_argument("--batches", action="store_true", help="A and B are batches (cluster scans), not scans")
    add_store(p)
    p.add_argument("--format", choices=("text", "json", "html"), default="text", help="output format (default text)")
    p.add_argument("--outputfile", type=a.path_arg, metavar="FILE", help="write the diff to FILE (atomically)")
    p.add_argument("--exit-code", type=a.exit_status, default=0, metavar="N",
                   help="exit status (0-255) when a check is newly failing or a node is newly not evaluated "
                        "(default 0)")
    p.set_defaults(handler=diff_cmd)


def _scan_ids(values: list[str]) -> list[int]:
    out = []
    for v in values:
        try:
            out.append(int(v, 10))
        except ValueError:
            raise UsageError(f"scan id {v!r} is not a number (batches: --batches A B)") from None
    return out


def diff_cmd(ns: argparse.Namespace) -> int:
    from kubecis.cli.common import check_output_path
    from kubecis.store import CLUSTER, Batch, Store
    from kubecis.store.diff import NodeDiff, batch_diff, node_diff, render_html, render_text, to_dict

    if len(ns.scans) not in (0, 2):
        what = "batch ids" if ns.batches else "scan ids"
        raise UsageError(f"give two {what} (from, to), or none for the last two")
    if ns.outputfile is not None:
        check_output_path(ns.outputfile)
    batches: tuple[Batch, Batch] | None = None
    diffs: list[NodeDiff]
    with Store.open(ns.store, create=False) as store:
        if ns.batches and ns.scans:
            batches = (store.batch(ns.scans[0]), store.batch(ns.scans[1]))
        elif ns.scans:
            before, after = (store.scan(i) for i in _scan_ids(ns.scans))
            diffs = [node_diff(before, after, store.checks(before.id), store.checks(after.id))]
        else:
            newest = store.scans(cluster=ns.cluster, node=ns.node, limit=1)
            if not newest:
                raise StoreError(f"--store {store.url}: no scans" + (" of that node" if ns.node or ns.cluster else ""))
            if ns.batches or (ns.node is None and newest[0].origin == CLUSTER):
                pair = store.batches(cluster=newest[0].cluster, origin=CLUSTER, limit=2)
                if len(pair) < 2:
                    raise StoreError(f"--store {store.url}: cluster {newest[0].cluster or '(unnamed)'} has only "
                                     f"{len(pair)} batch{'es' if len(pair) != 1 else ''}; nothing to compare")
                batches = (pair[1], pair[0])
            else:
                pair_scans = store.scans(cluster=newest[0].cluster, node=newest[0].node, scope=newest[0].scope,
                                         limit=2)
                if len(pair_scans) < 2:
                    raise StoreError(f"--store {store.url}: node {newest[0].node or '(unnamed)'} has only one scan "
                                     f"({pair_scans[0].id}); nothing to compare")
                after, before = pair_scans
                diffs = [node_diff(before, after, store.checks(before.id), store.checks(after.id))]
        if batches is not None:
            diffs = batch_diff(store.scans(batch=batches[0].id, newest_first=False),
                               store.scans(batch=batches[1].id, newest_first=False), store.checks)
    if ns.format == "json":
        text = json.dumps(to_dict(diffs, batches), indent=2, ensure_ascii=False) + "\n"
    elif ns.format == "html":
        text = render_html(diffs, batches)
    else:
        text = render_text(diffs, batches)
    if ns.outputfile is not None:
        from kubecis.cli.run import write_atomic

        write_atomic(ns.outputfile, text)
    else:
        sys.stdout.write(text)
    if ns.exit_code and any(d.newly_failing or d.coverage == "newly_not_evaluated" for d in diffs):
        return int(ns.exit_code)
    return 0

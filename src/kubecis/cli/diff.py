"""`kubecis diff [A B]`: what changed between two stored scans, per node and check."""

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
                     "Without A and B: the last two scans of the node of the newest scan (or of --node / "
                     "--cluster).")
    p.add_argument("scans", nargs="*", type=int, metavar="SCAN", help="two scan ids (see `kubecis history`): from, to")
    add_store(p)
    p.add_argument("--format", choices=("text", "json", "html"), default="text", help="output format (default text)")
    p.add_argument("--outputfile", type=a.path_arg, metavar="FILE", help="write the diff to FILE (atomically)")
    p.add_argument("--exit-code", type=a.exit_status, default=0, metavar="N",
                   help="exit status (0-255) when a check is newly failing (default 0)")
    p.set_defaults(handler=diff_cmd)


def diff_cmd(ns: argparse.Namespace) -> int:
    from kubecis.cli.common import check_output_path
    from kubecis.store import Store
    from kubecis.store.diff import node_diff, render_html, render_text, to_dict

    if len(ns.scans) not in (0, 2):
        raise UsageError("give two scan ids (from, to), or none for the last two scans of a node")
    if ns.outputfile is not None:
        check_output_path(ns.outputfile)
    with Store.open(ns.store, create=False) as store:
        if ns.scans:
            before, after = store.scan(ns.scans[0]), store.scan(ns.scans[1])
        else:
            newest = store.scans(cluster=ns.cluster, node=ns.node, limit=1)
            if not newest:
                raise StoreError(f"--store {store.url}: no scans" + (" of that node" if ns.node or ns.cluster else ""))
            pair = store.scans(cluster=newest[0].cluster, node=newest[0].node, limit=2)
            if len(pair) < 2:
                raise StoreError(f"--store {store.url}: node {newest[0].node or '(unnamed)'} has only one scan "
                                 f"({pair[0].id}); nothing to compare")
            after, before = pair
        d = node_diff(before, after, store.checks(before.id), store.checks(after.id))
    if ns.format == "json":
        text = json.dumps(to_dict([d]), indent=2, ensure_ascii=False) + "\n"
    elif ns.format == "html":
        text = render_html([d])
    else:
        text = render_text([d])
    if ns.outputfile is not None:
        from kubecis.cli.run import write_atomic

        write_atomic(ns.outputfile, text)
    else:
        sys.stdout.write(text)
    if ns.exit_code and d.changes.get("newly_failing"):
        return int(ns.exit_code)
    return 0

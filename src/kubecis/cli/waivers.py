"""`kubecis waivers check FILE`: validate a waivers file (errors name file:line)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from kubecis.cli import args as a
from kubecis.cli.common import echo


def build(p: argparse.ArgumentParser, name: str) -> None:
    sub = p.add_subparsers(title="commands", metavar="COMMAND", dest="subcommand")
    c = sub.add_parser("check", help="validate a waivers file; list its waivers and which have expired",
                       description="Validate a waivers file (`kubecis run --waivers FILE`): every problem is "
                                   "reported as FILE:LINE: message and the exit status is 1. A valid file's "
                                   "waivers are listed, expired ones marked.")
    c.add_argument("file", type=a.path_arg, metavar="FILE")
    c.add_argument("--date", type=_date, default=None, metavar="YYYY-MM-DD",
                   help="judge expiry on this day instead of today (UTC)")
    c.set_defaults(handler=check_cmd)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


def check_cmd(ns: argparse.Namespace) -> int:
    from kubecis.results.waivers import load

    path: Path = ns.file
    waivers = load(path)
    today = ns.date or dt.datetime.now(dt.UTC).date()
    expired = [w for w in waivers if not w.active(today)]
    echo(f"{path}: {len(waivers)} waiver{'s' if len(waivers) != 1 else ''}, {len(expired)} expired")
    for w in waivers:
        state = "expired on" if not w.active(today) else "active until"
        scope = ", ".join(f"{k}={','.join(v)}" for k, v in (("nodes", w.nodes), ("clusters", w.clusters),
                          ("benchmarks", w.benchmarks), ("namespaces", w.namespaces), ("objects", w.objects)) if v)
        echo(f"  {w.id}: {state} {w.expires.isoformat()}: checks {', '.join(w.checks)}"
             + (f" [{scope}]" if scope else ""))
    return 0

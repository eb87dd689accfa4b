"""`kubecis audits coverage`: which audits of a benchmark set the native interpreter cannot run."""

from __future__ import annotations

import argparse

from kubecis.cli import args as a
from kubecis.cli.common import echo


def build(p: argparse.ArgumentParser, name: str) -> None:
    sub = p.add_subparsers(title="commands", metavar="COMMAND", dest="subcommand")
    c = sub.add_parser("coverage", help="list the audits of automated checks the native executor does not support",
                       description="List the distinct audits of automated checks that the native executor does "
                                   "not support, and the share it does.")
    c.add_argument("names", nargs="+", metavar="NAME", help="benchmark set names, e.g. cis-1.12")
    a.add_config_dir(c)
    c.set_defaults(handler=coverage_cmd)


def coverage_cmd(ns: argparse.Namespace) -> int:
    from kubecis.audit.native.corpus import load_corpus
    from kubecis.audit.native.coverage import coverage
    from kubecis.cli.common import resolve_config_dir

    where: dict[str, list[str]] = {}
    for e in load_corpus(resolve_config_dir(ns.config_dir), ns.names):
        if e.automated:
            where.setdefault(e.script, []).append(f"{e.benchmark}:{e.target}/{e.check_id}")
    supported, total, unsupported = coverage(where)
    for script, reason in unsupported:
        first = script.strip().splitlines()[0]
        places = where[script]
        more = f" (+{len(places) - 1} more)" if len(places) > 1 else ""
        echo(f"{places[0]}{more}: {reason}")
        echo(f"    {first[:150]}")
    pct = 100.0 * supported / total if total else 100.0
    echo(f"natively supported: {supported}/{total} audits ({pct:.1f}%)")
    return 0

"""`kubecis probe NAME [ARGS]`: one of kubecis's own evaluations, as benchmark audits call it.

The native executor runs the same probes in-process; this command is what ``--executor shell`` (and a user)
runs. Exit status: 0 decided (the output holds the ``key: value`` lines and the evidence), 1 cannot decide (the
reason on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys

from kubecis.cli import args as a
from kubecis.cli.common import echo
from kubecis.errors import UsageError

OBJECTS_ENV = "KUBECIS_OBJECTS"


def build(p: argparse.ArgumentParser, name: str) -> None:
    p.description = ("Run one of kubecis's probes (the evaluations bundled checks call as audits) and print its "
                     "result: key: value lines, then one line per offending object. `kubecis probe --list` lists "
                     "them. Objects come from the cluster kubectl would use, or from --objects PATH; the "
                     "configuration-file probes (encryption-config, audit-policy, event-rate-limit) read the file "
                     "given as their argument on this machine.")
    p.add_argument("--list", action="store_true", help="list the probes with what they report and inspect")
    p.add_argument("--objects", type=a.path_arg, metavar="PATH",
                   help="evaluate an object dump (kubectl get -A -o json output, manifests, or a directory of "
                        f"them) instead of the live cluster (env {OBJECTS_ENV})")
    p.add_argument("name", nargs="?", metavar="NAME", help="probe name")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="the probe's own arguments")
    p.set_defaults(handler=probe)


def probe(ns: argparse.Namespace) -> int:
    from kubecis.probes import DECIDED, PROBES, USAGE, ProbeContext, run_probe

    if ns.list:
        for spec in PROBES.values():
            echo(f"{spec.name}{' ' + spec.usage if spec.usage else ''}")
            echo(f"    reports: {spec.summary}")
            echo(f"    inspects: {spec.inspects}")
        return 0
    if not ns.name:
        raise UsageError("a probe name is required (kubecis probe --list)")
    from kubecis.host.cluster import Cluster, LiveCluster
    from kubecis.host.live import LiveHost

    objects = ns.objects or (os.environ.get(OBJECTS_ENV) or None)
    cluster: Cluster
    if objects is not None:
        from kubecis.policies.objects import ObjectsCluster

        cluster = ObjectsCluster.load(objects)
    else:
        cluster = LiveCluster()

    res = run_probe(ns.name, a.command_after_dashdash(ns.args), ProbeContext(LiveHost(), cluster, dict(os.environ)))
    if res.status == DECIDED:
        sys.stdout.write(res.output)
        return 0
    if res.status == USAGE:
        raise UsageError(res.output)
    sys.stderr.write(f"kubecis probe {ns.name}: cannot decide: {res.output}\n")
    return 1

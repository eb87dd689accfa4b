"""The native ``kubecis`` utility: ``kubecis probe NAME [ARGS]`` run in-process (see :mod:`kubecis.probes`)."""

from __future__ import annotations

from kubecis.audit.base import AuditUndecided
from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import enc

__all__ = ["u_kubecis"]


def u_kubecis(ctx: Ctx, args: list[str]) -> int:
    from kubecis.probes import DECIDED, USAGE, ProbeContext, check_usage, run_probe

    if not args or args[0] != "probe":
        raise Unsupported(f"kubecis {args[0] if args else ''}".rstrip())
    if len(args) < 2 or args[1].startswith("-"):
        raise Unsupported("kubecis probe without a probe name")
    name, rest = args[1], args[2:]
    if ctx.audit.dry_run:  # static coverage: a well-formed probe call is supported; nothing is evaluated
        bad = check_usage(name, rest)
        if bad is not None:
            ctx.err.write(enc(f"kubecis: error: {bad}\n"))
            return USAGE
        return DECIDED
    res = run_probe(name, rest, ProbeContext(host=ctx.host, cluster=ctx.audit.cluster, env=ctx.environ()))
    if res.status == DECIDED:
        ctx.write(res.output)
        return DECIDED
    if res.status == USAGE:  # what the command prints (kubecis.cli.main's one error line)
        ctx.err.write(enc(f"kubecis: error: {res.output}\n"))
        return USAGE
    raise AuditUndecided(f"kubecis probe {name}: {res.output}")

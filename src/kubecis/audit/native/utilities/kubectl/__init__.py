"""Native ``kubectl`` and ``oc`` over a :class:`~kubecis.host.cluster.Cluster`, in the forms audits use.

Implemented: ``get`` (resource lists and names, several types in one argument, ``TYPE/NAME``,
``-n``, ``-A``, ``-l``, ``--field-selector``, ``--ignore-not-found``, ``--raw``, output ``json``,
``name``, ``jsonpath=``, ``custom-columns=``, the default table from the server's Table
rendering with kubectl's one-table-per-kind layout, ``--no-headers``), ``api-resources``
(``--verbs``, ``--namespaced``, ``--api-group``, ``--categories``, ``--sort-by``, ``-o name|wide``,
``--no-headers``), ``describe secret [NAME]`` / ``describe secret/NAME`` (describe.go's
describeSecret; the data keys, which kubectl prints in Go's random map order, sorted), ``oc describe
scc [NAME]`` (openshift/oc's describeSecurityContextConstraints; no real oc was available to compare
with: derived from its source and checked against a published oc 4.x transcript), ``auth can-i`` (``VERB
TYPE[/NAME]``, ``VERB /URL``, ``--subresource``, ``--as``, ``--as-group``)
and ``oc debug node/NAME -- chroot /host CMD...`` (CMD runs natively over the host, which is the
node being checked). Output is byte-identical to kubectl 1.32's (sorted-key
JSON with 4-space indent, client-go JSONPath, text/tabwriter columns with kubectl's
RememberWidths); anything else, including ``describe`` of any other kind, raises ``Unsupported``.
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import enc
from kubecis.audit.native.utilities.kubectl.flags import WITH_VALUE, parse_flags
from kubecis.audit.native.utilities.kubectl.requests import KubectlError
from kubecis.host.cluster import Cluster, ClusterUnreachable, NoCluster, NotNative

__all__ = ["u_kubectl", "u_oc"]


def _cluster(ctx: Ctx) -> Cluster:
    c = ctx.audit.cluster
    return c if c is not None else NoCluster()


_SUBCOMMANDS = ("get", "describe", "auth", "debug", "api-resources")


def _subcommand(args: list[str]) -> str | None:
    """The first operand, skipping the values of the global options that take one."""
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a == "--":
            return None
        elif a in WITH_VALUE or a in ("-c", "--container", "--context", "--kubeconfig", "--server", "--token"):
            skip = True
        elif not a.startswith("-"):
            return a
    return None


def _run(ctx: Ctx, prog: str, args: list[str]) -> int:
    sub0 = _subcommand(args)
    if sub0 is not None and sub0 not in _SUBCOMMANDS:
        raise Unsupported(f"{prog} {sub0}")
    # global flags may precede the subcommand (``oc -n NS get ...``)
    o = parse_flags(prog, args, api_resources=sub0 == "api-resources")
    if not o.args:
        raise Unsupported(f"{prog} without a subcommand")
    sub, o.args = o.args[0], o.args[1:]
    if o.subresource is not None and not (sub == "auth" and o.args[:1] == ["can-i"]):
        raise Unsupported(f"{prog} {sub} --subresource")
    cluster = _cluster(ctx)
    try:
        if sub == "get":
            if o.after_dashes is not None:
                raise Unsupported(f"{prog} get --")
            from kubecis.audit.native.utilities.kubectl.get import get  # each subcommand loaded when used

            return get(ctx, prog, cluster, o)
        if sub == "describe":
            from kubecis.audit.native.utilities.kubectl.describe import describe

            return describe(ctx, prog, cluster, o)
        if sub == "auth" and o.args[:1] == ["can-i"]:
            from kubecis.audit.native.utilities.kubectl.auth import can_i

            o.args = o.args[1:]
            return can_i(ctx, prog, cluster, o)
        if sub == "debug":
            from kubecis.audit.native.utilities.kubectl.debug import debug

            return debug(ctx, prog, cluster, o)
        if sub == "api-resources":
            from kubecis.audit.native.utilities.kubectl.api_resources import api_resources

            return api_resources(ctx, prog, cluster, o)
        raise Unsupported(f"{prog} {sub}")
    except NotNative as exc:
        raise Unsupported(f"{prog} with {exc}") from None
    except ClusterUnreachable as exc:
        if ctx.err.null:  # nothing on stdout and exit 1: the facts kubectl and oc show when stderr is discarded
            return 1
        # kubectl's error output here (klog lines with its time and pid) is not a fact we can reproduce
        # honestly; the audit is not run natively (auto runs the real kubectl, native reports WARN).
        raise Unsupported(f"{prog}: the cluster API at {exc.host} is not reachable") from None
    except KubectlError as f:
        ctx.err.write(enc(f.msg))
        return 1


def u_kubectl(ctx: Ctx, args: list[str]) -> int:
    return _run(ctx, "kubectl", args)


def u_oc(ctx: Ctx, args: list[str]) -> int:
    return _run(ctx, "oc", args)

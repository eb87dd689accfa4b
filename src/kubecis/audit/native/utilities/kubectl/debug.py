"""``oc debug node/NAME -- chroot /host CMD...``: CMD runs natively over the host (the node being checked).
"""

from __future__ import annotations

import urllib.parse

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.kubectl.flags import Opts
from kubecis.host.cluster import Cluster

__all__ = ["debug"]


def debug(ctx: Ctx, prog: str, cluster: Cluster, o: Opts) -> int:
    cmd = o.after_dashes
    if prog != "oc" or len(o.args) != 1 or not o.args[0].startswith("node/") or not cmd:
        raise Unsupported(f"{prog} debug form")
    if cmd[:2] != ["chroot", "/host"] or len(cmd) < 3:
        raise Unsupported(f"{prog} debug without chroot /host")
    if not ctx.err.null:
        raise Unsupported("oc debug with its pod messages on stderr")
    node = o.args[0][len("node/"):]
    status, _ = cluster.get("/api/v1/nodes/" + urllib.parse.quote(node, safe=""))
    if status != 200:
        return 1
    return ctx.run(cmd[2:], ctx.stdin, ctx.out, ctx.err)

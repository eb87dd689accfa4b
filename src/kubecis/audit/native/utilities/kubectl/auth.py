"""``kubectl auth can-i``: SelfSubjectAccessReviews for resources and non-resource URLs.
"""

from __future__ import annotations

import json
from typing import Any

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import enc
from kubecis.audit.native.utilities.kubectl.flags import Opts
from kubecis.audit.native.utilities.kubectl.requests import KubectlError, namespace_of, status_error
from kubecis.audit.native.utilities.kubectl.resources import RESTMapper
from kubecis.host.cluster import Cluster

__all__ = ["can_i"]


def can_i(ctx: Ctx, prog: str, cluster: Cluster, o: Opts) -> int:
    """kubectl's CanIOptions: ``VERB TYPE[/NAME]`` or ``VERB /URL``, ``--subresource``, ``--as``/``--as-group``."""
    if o.output or o.selector or o.field_selector or o.raw:
        raise Unsupported(f"{prog} auth can-i form")
    if len(o.args) != 2:
        if prog != "kubectl":
            raise Unsupported(f"{prog} auth can-i usage error text")
        raise KubectlError("error: you must specify two arguments: verb resource or verb resource/resourceName.\n"
                    "See 'kubectl auth can-i -h' for help and examples.\n")
    if o.as_groups and o.as_user is None:
        raise Unsupported(f"{prog} auth can-i --as-group without --as (its error text)")
    verb, res = o.args[0], o.args[1]
    if res.startswith("/"):
        return _can_i_url(ctx, prog, cluster, o, verb, res)
    typ, _, name = res.partition("/")
    sub = o.subresource or ""
    warn = ""
    r = RESTMapper(cluster).resolve(typ)
    if r is None:
        warn = f"Warning: the server doesn't have a resource type '{typ}'\n\n"
        group, resource = "", typ
    else:
        group, resource = r.group, r.name
    attrs: dict[str, Any] = {"namespace": "" if o.all_ns else namespace_of(cluster, o), "verb": verb}
    if group:
        attrs["group"] = group
    attrs["resource"] = resource
    if sub:
        attrs["subresource"] = sub
    if name:
        attrs["name"] = name
    body = json.dumps(
        {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
         "metadata": {"creationTimestamp": None}, "spec": {"resourceAttributes": attrs}, "status": {"allowed": False}},
        separators=(",", ":"),
    ).encode()
    if r is not None and not r.namespaced and attrs["namespace"]:
        where = f" in group '{r.group}'" if r.group else ""
        warn += f"Warning: resource '{r.name}' is not namespace scoped{where}\n\n"
    if warn:
        ctx.err.write(enc(warn))
    return _review(ctx, cluster, o, body)


def _can_i_url(ctx: Ctx, prog: str, cluster: Cluster, o: Opts, verb: str, url: str) -> int:
    """``auth can-i VERB /PATH``: a non-resource access review (no name, no namespace)."""
    if o.subresource is not None or o.all_ns or o.namespace is not None:
        raise Unsupported(f"{prog} auth can-i non-resource URL with a subresource or namespace")
    body = json.dumps(
        {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
         "metadata": {"creationTimestamp": None}, "spec": {"nonResourceAttributes": {"path": url, "verb": verb}},
         "status": {"allowed": False}},
        separators=(",", ":"),
    ).encode()
    return _review(ctx, cluster, o, body)


def _review(ctx: Ctx, cluster: Cluster, o: Opts, body: bytes) -> int:
    status, resp = cluster.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body, o.as_user,
                                o.as_groups)
    if status not in (200, 201):
        raise KubectlError(status_error(status, resp) + "\n")
    st = (json.loads(resp).get("status") or {})
    if st.get("allowed"):
        ctx.write("yes\n")
        return 0
    line = "no"
    if st.get("reason"):
        line += f" - {st['reason']}"
    if st.get("evaluationError"):
        line += f" - {st['evaluationError']}"
    ctx.write(line + "\n")
    return 1

"""``kubectl api-resources`` (apiresources.go of kubectl 1.32).
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Irreproducible, Unsupported
from kubecis.audit.native.utilities.kubectl.flags import Opts
from kubecis.audit.native.utilities.kubectl.printers import tabwrite
from kubecis.audit.native.utilities.kubectl.requests import KubectlError
from kubecis.host.cluster import APIDiscovery, APIResource, Cluster, ClusterUnreachable

__all__ = ["api_resources"]


def api_resources(ctx: Ctx, prog: str, cluster: Cluster, o: Opts) -> int:
    """``api-resources`` (apiresources.go of kubectl 1.32): ServerPreferredResources, filtered, sorted by group
    (or ``--sort-by`` name/kind) then name, as a table (NAME SHORTNAMES APIVERSION NAMESPACED KIND) or names."""
    used = [flag for flag, on in (("-l", o.selector is not None), ("--field-selector", o.field_selector is not None),
                                  ("-A", o.all_ns), ("--ignore-not-found", o.ignore_not_found),
                                  ("--raw", o.raw is not None), ("--as", o.as_user is not None or bool(o.as_groups)),
                                  ("--", o.after_dashes is not None)) if on]
    if used:
        raise Unsupported(f"{prog} api-resources {used[0]}")
    if o.args:
        raise Unsupported(f"{prog} api-resources with arguments")
    # Validate() runs before any request
    if o.output not in ("", "wide", "name"):
        raise KubectlError(f"error: --output {o.output} is not available\n")
    if o.sort_by not in ("", "name", "kind"):
        raise KubectlError("error: --sort-by accepts only name or kind\n")
    wide = o.output == "wide"
    header = [] if o.no_headers or o.output == "name" else [
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"] + (["VERBS", "CATEGORIES"] if wide else [])]
    try:
        resources, failed = APIDiscovery(cluster).preferred()
    except ClusterUnreachable:
        if not ctx.err.null:
            raise
        ctx.write(tabwrite(header))  # the header is printed before the error
        return 1
    if any(status != 0 for _, status in failed) and not ctx.err.null:
        # client-go also logs each failed group version through klog (a timestamp and the pid on each line)
        raise Irreproducible(f"{prog} api-resources: klog lines for a failed discovery request")
    verbs, cats = set(o.verbs or ()), set(o.categories or ())
    chosen = [r for r in resources
              if r.verbs
              and (o.api_group is None or r.group == o.api_group)
              and (o.namespaced is None or r.namespaced == o.namespaced)
              and verbs <= set(r.verbs) and cats <= set(r.categories)]

    def key(r: APIResource) -> tuple[str, str]:
        return ({"name": r.name, "kind": r.kind}.get(o.sort_by, r.group), r.name)

    chosen.sort(key=key)  # Go's sort.Stable with the same order; each group/resource appears once
    if o.output == "name":
        ctx.write("".join(r.name + (f".{r.group}" if r.group else "") + "\n" for r in chosen))
    else:
        rows = list(header)
        for r in chosen:
            rows.append([r.name, ",".join(r.short_names), r.group_version, "true" if r.namespaced else "false",
                         r.kind] + ([",".join(r.verbs), ",".join(r.categories)] if wide else []))
        if rows:
            ctx.write(tabwrite(rows))
    if failed:
        msgs = sorted(f"{gv}: received empty response for: {gv}" for gv, _ in failed)
        raise KubectlError("error: unable to retrieve the complete list of server APIs: " + ", ".join(msgs) + "\n")
    return 0

"""kubectl's RESTMapper: what a user types (``pods``, ``po``, ``cm``, ``scc``, ``kubeapiservers.operator.openshift.io``,
``deploy.v1.apps``) to the API resource it names, over the cluster's discovery."""

from __future__ import annotations

from kubecis.host.cluster import APIDiscovery, APIResource, Cluster

__all__ = ["RESTMapper"]


class RESTMapper:
    """Resolves resource arguments the way kubectl does (plural name, singular or kind, short name; then with a
    group or version.group suffix); categories (``all``) expand to their resources."""

    def __init__(self, cluster: Cluster) -> None:
        self.discovery = APIDiscovery(cluster)

    def resolve(self, arg: str) -> APIResource | None:
        """kubectl's RESTMapper for one resource argument (``name``, ``name.group`` or ``name.version.group``)."""
        arg = arg.lower()
        res = self.discovery.resources()
        cands: list[tuple[str, str | None, str | None]] = [(arg, None, None)]
        if "." in arg:
            n, _, rest = arg.partition(".")
            if "." in rest:
                v, _, g = rest.partition(".")
                cands.insert(0, (n, v, g))
            cands.insert(1 if len(cands) > 1 else 0, (n, None, rest))
        for name, version, group in cands:
            for how in range(3):
                for r in res:
                    if group is not None and r.group != group:
                        continue
                    if version is not None and r.version != version:
                        continue
                    if how == 0 and r.name == name:
                        return r
                    if how == 1 and (r.singular == name or (not r.singular and r.kind.lower() == name)):
                        return r
                    if how == 2 and name in r.short_names:
                        return r
        return None

    def category(self, name: str) -> list[APIResource]:
        """Resources in a category (``all``), first version of each group/resource only."""
        seen: set[tuple[str, str]] = set()
        out: list[APIResource] = []
        for r in self.discovery.resources():
            if name in r.categories and (r.group, r.name) not in seen:
                seen.add((r.group, r.name))
                out.append(r)
        return out



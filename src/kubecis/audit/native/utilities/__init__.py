"""The emulated utilities: one module per command, wired by one table, :data:`UTILITIES`.

Each utility is a :class:`~kubecis.audit.native.context.Utility` (``u_NAME(ctx, args) -> status``) in its own
module; a module is imported the first time an audit runs its command, so a run pays only for the utilities
its audits use. To add one: write ``utilities/NAME.py`` with ``u_NAME`` and add a line here (and a test
module ``tests/audit/utilities/test_NAME.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from kubecis.audit.native.context import Ctx, Utility

__all__ = ["UTILITIES", "LazyUtility"]


class LazyUtility:
    """A utility whose module is imported on first use (``module``: under this package; ``name``: the function)."""

    __slots__ = ("_fn", "module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self._fn: Utility | None = None

    def load(self) -> Utility:
        if self._fn is None:
            fn: Utility = getattr(importlib.import_module(f"{__name__}.{self.module}"), self.name)
            self._fn = fn
        return self._fn

    def __call__(self, ctx: Ctx, args: list[str], /) -> int:
        return self.load()(ctx, args)

    def __repr__(self) -> str:
        return f"LazyUtility({self.module}.{self.name})"


def _lazy(module: str, name: str | None = None) -> LazyUtility:
    return LazyUtility(module, name or f"u_{module}")


#: command name -> implementation (``/usr/bin/NAME`` and the other standard directories resolve here too)
UTILITIES: Mapping[str, Utility] = {
    "cat": _lazy("cat"),
    "echo": _lazy("echo"),
    "printf": _lazy("printf"),
    "true": _lazy("true"),
    "false": _lazy("false"),
    "basename": _lazy("basename"),
    "dirname": _lazy("dirname"),
    "ps": _lazy("ps"),
    "grep": _lazy("grep"),
    "stat": _lazy("stat"),
    "find": _lazy("find"),
    "xargs": _lazy("xargs"),
    "head": _lazy("head"),
    "tail": _lazy("tail"),
    "sort": _lazy("sort"),
    "uniq": _lazy("uniq"),
    "wc": _lazy("wc"),
    "tr": _lazy("tr"),
    "cut": _lazy("cut"),
    "sed": _lazy("sed"),
    "awk": _lazy("awk"),
    "jq": _lazy("jq"),
    "paste": _lazy("paste"),
    "kubectl": _lazy("kubectl"),
    "oc": _lazy("kubectl", "u_oc"),
    "journalctl": _lazy("journalctl"),
    "openssl": _lazy("openssl"),  # x509 -subject/-issuer only
    "check_files_owner_in_dir.sh": _lazy("check_files_owner_in_dir"),  # kube-bench image helper (rke-cis sets)
    "kubecis": _lazy("kubecis_probe", "u_kubecis"),  # kubecis probe NAME [ARGS] (kubecis.probes), in-process
}

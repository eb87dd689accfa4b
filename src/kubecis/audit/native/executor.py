"""The native executor: runs one audit script in-process over a Host (see the package docstring)."""


from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kubecis.audit.base import MAX_OUTPUT_BYTES, AuditResult, AuditUndecided, internal_error_reason
from kubecis.audit.native.bounds import Budget
from kubecis.audit.native.context import AuditRun
from kubecis.audit.native.errors import LimitExceeded, Unsupported
from kubecis.audit.native.shell import Shell
from kubecis.audit.native.streams import Out, Stream, dec
from kubecis.audit.native.utilities import UTILITIES
from kubecis.errors import HostError
from kubecis.host.base import Host, NotInSnapshot

if TYPE_CHECKING:
    from kubecis.host.cluster import Cluster

__all__ = ["DEFAULT_PATH", "PREFIX", "NativeExecutor"]

PREFIX = "audit not supported natively: "
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class NativeExecutor:
    name = "native"

    def __init__(
        self,
        host: Host,
        env: Mapping[str, str] | None = None,
        cwd: str = "/",
        cluster: Cluster | None = None,
        timeout: float | None = None,
        *,
        dry_run: bool = False,
    ) -> None:
        self.host = host
        self.env = dict(env) if env is not None else {"PATH": DEFAULT_PATH}
        self.cwd = cwd
        self.cluster = cluster  # what native kubectl/oc talk to; None: kubectl with no configuration
        self.timeout = timeout  # wall time one audit may take; None: bounds.MAX_SECONDS
        self.dry_run = dry_run  # static coverage: the script runs on an empty host, nothing is evaluated

    def run(self, script: str) -> AuditResult:
        audit = AuditRun(cluster=self.cluster, budget=Budget(seconds=self.timeout), dry_run=self.dry_run)
        try:
            res = self._run(script, audit)
        except LimitExceeded as exc:
            return AuditResult("", 0, self.name, not_run=f"audit exceeds the native interpreter's bounds: {exc}")
        except Exception as exc:  # a bug in one audit must not abort the run
            return AuditResult("", 0, self.name, not_run=internal_error_reason(exc))
        if audit.facts and not res.not_run and not self.dry_run:
            # the output is what the tool prints (UNKNOWN), but the check cannot be evaluated on it
            res = dataclasses.replace(res, not_run="; ".join(audit.facts.values()))
        return res

    def _run(self, script: str, audit: AuditRun) -> AuditResult:
        if not script.strip():
            return AuditResult("", 0, self.name)
        shell = Shell(self.host, self.env, "/bin/sh", [], self.cwd, commands=UTILITIES, audit=audit)
        combined = Out()
        try:
            status = shell.run_script(script, Stream(), combined, combined)
        except Unsupported as exc:
            return AuditResult("", 0, self.name, not_run=PREFIX + str(exc))
        except NotInSnapshot as exc:
            return AuditResult("", 0, self.name, not_run=f"not in snapshot: {exc}")
        except AuditUndecided as exc:
            return AuditResult("", 0, self.name, not_run=str(exc))
        except (HostError, OSError) as exc:
            return AuditResult("", 0, self.name, not_run=f"host error: {exc}")
        except RecursionError:
            return AuditResult("", 0, self.name, not_run=PREFIX + "nesting too deep")
        data = bytes(combined.buf)
        if len(data) > MAX_OUTPUT_BYTES:
            return AuditResult("", status, self.name, not_run=f"audit output exceeds {MAX_OUTPUT_BYTES} bytes")
        return AuditResult(dec(data).encode("utf-8", "replace").decode("utf-8"), status, self.name)

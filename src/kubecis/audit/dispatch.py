"""Executor policy: ``native`` never starts a process; ``auto`` starts a shell only when allowed.

``auto`` runs every audit natively. An audit outside the native subset is WARN with the
construct named, unless the user opted in with ``--allow-shell`` (live host only; with
``--root`` or ``--snapshot`` nothing ever runs in a shell): then that audit, and only
that one, runs through ``/bin/sh`` — announced on stderr before it starts. The result
names the executor that produced it, so reports can list the checks that needed the shell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kubecis.audit.base import AuditResult, Executor
from kubecis.golang.fmt import go_quote
from kubecis.host.base import Host

if TYPE_CHECKING:
    from kubecis.host.cluster import Cluster

UNSUPPORTED_PREFIX = "audit not supported natively"
ALLOW_SHELL_HINT = "--allow-shell runs it through /bin/sh"


def native_executor(host: Host, *, cluster: Cluster | None = None, timeout: float | None = None) -> Executor:
    """The native executor over ``host``; ``cluster``: what its kubectl/oc and probes talk to; ``timeout``: the
    wall time one audit may take."""
    from kubecis.audit.native import NativeExecutor

    return NativeExecutor(host, cluster=cluster, timeout=timeout)


class OncePerRun:
    """The native executor with each distinct audit script run once per run: checks that repeat an audit share
    its result (most node checks read ``ps -fC kubelet`` or the kubelet's config file: a kubeadm control plane's
    113 audits are 41 distinct).

    This gives the same answer as running each of them, because the native interpreter is a function of the
    script, its fixed environment and what it reads: it never writes (redirection to a file is unsupported, no
    utility changes anything), the host reads the process table once per run (every ``ps`` of a run sees the
    same table), and a snapshot or a mounted root does not change. On a live node a file could change between
    two identical audits a few milliseconds apart; sharing reports the one reading of it to both checks (kube-bench
    reads it twice, also within seconds). Never used for ``/bin/sh``, whose audits may have side effects.
    """

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self._done: dict[str, AuditResult] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    def run(self, script: str) -> AuditResult:
        got = self._done.get(script)
        if got is None:
            got = self._done[script] = self.inner.run(script)
        return got


def shell_notice(script: str, why: str) -> str:
    """The line announcing that ``script`` is about to run through /bin/sh (printed before it starts): the
    reason and the script's first command line (comments skipped), Go-quoted so no control character
    reaches the terminal."""
    lines = [line.strip() for line in script.splitlines() if line.strip() and not line.strip().startswith("#")]
    first = lines[0] if lines else ""
    shown = first if len(first) <= 80 else first[:77] + "..."
    more = " ..." if len(lines) > 1 else ""
    return f"running through /bin/sh ({why}): {go_quote(shown)}{more}"


class AutoExecutor:
    """Native first; the shell for audits outside the native subset only when one is given (``--allow-shell``).

    ``hint``: appended to the WARN reason of an unsupported audit when no shell is given (tells a live run how
    to opt in). ``notify``: called with one line before each audit that goes to the shell.
    """

    def __init__(
        self,
        native: Executor,
        shell: Executor | None,
        *,
        hint: str = "",
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.native = native
        self.shell = shell
        self.hint = hint
        self.notify = notify

    @property
    def name(self) -> str:
        return "auto"

    def run(self, script: str) -> AuditResult:
        res = self.native.run(script)
        if not res.not_run.startswith(UNSUPPORTED_PREFIX):
            return res
        if self.shell is None:
            if not self.hint:
                return res
            return AuditResult(res.output, res.returncode, res.executor, not_run=f"{res.not_run}; {self.hint}")
        if self.notify is not None:
            self.notify(shell_notice(script, res.not_run))
        return self.shell.run(script)

"""What a utility may use: :class:`Ctx` (host, environment, streams, the audit's state, a way to run another
utility) and the :class:`Utility` protocol every emulated command implements.

Utilities never see the interpreter: ``Ctx.run`` is how ``xargs``, ``find -exec`` and ``oc debug`` start
another utility, ``Ctx.env`` / ``Ctx.environ`` the environment a started command sees. :class:`AuditRun`
holds what one audit shares across its commands (the cluster native kubectl talks to, the work budget,
facts a utility printed without being able to establish them, whether this is a static dry run).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from kubecis.audit.native.bounds import Budget
from kubecis.audit.native.streams import Out, Stream, enc
from kubecis.host.base import Host

if TYPE_CHECKING:
    from kubecis.host.cluster import Cluster

__all__ = ["AuditRun", "Ctx", "RunUtility", "Utility"]

# argv, stdin, stdout, stderr -> exit status
RunUtility = Callable[[list[str], Stream, Out, Out], int]


class AuditRun:
    """The state one audit shares across its commands.

    ``cluster``: what native kubectl/oc and probes talk to (None: kubectl with no configuration).
    ``budget``: commands and wall time (None: unbounded, e.g. in unit tests).
    ``facts``: what a utility printed without being able to establish it (``stat -c %U`` of a uid with no
    name prints UNKNOWN, as GNU stat does): key -> reason; the executor makes such a check WARN.
    ``dry_run``: static coverage runs the script on an empty host (see ``Irreproducible``).
    """

    __slots__ = ("budget", "cluster", "dry_run", "facts")

    def __init__(self, cluster: Cluster | None = None, budget: Budget | None = None, dry_run: bool = False) -> None:
        self.cluster = cluster
        self.budget = budget
        self.dry_run = dry_run
        self.facts: dict[tuple[str, int], str] = {}


class Ctx:
    """What a utility sees: the host, its streams, its name, the working directory, the environment a started
    command sees, the audit's state, and a way to run another utility."""

    __slots__ = ("audit", "cwd", "env", "environ", "err", "host", "out", "prog", "run", "stdin")

    def __init__(
        self,
        *,
        host: Host,
        stdin: Stream,
        out: Out,
        err: Out,
        prog: str,
        cwd: str,
        audit: AuditRun,
        env: Callable[[str], str | None],
        environ: Callable[[], dict[str, str]],
        run: RunUtility,
    ) -> None:
        self.host = host
        self.stdin = stdin
        self.out = out
        self.err = err
        self.prog = prog
        self.cwd = cwd
        self.audit = audit
        self.env = env  # one variable as a command started here sees it (None: unset)
        self.environ = environ  # the whole environment a command started here gets
        self.run = run

    def write(self, s: str | bytes) -> None:
        self.out.write(s if isinstance(s, bytes) else enc(s))

    def error(self, msg: str) -> None:
        self.err.write(enc(f"{self.prog}: {msg}\n"))

    def path(self, p: str) -> str:
        return p if p.startswith("/") else posixpath.join(self.cwd, p)


class Utility(Protocol):
    """An emulated command: writes its output and GNU/procps/kubectl-identical errors through ``ctx``, returns
    its exit status, and raises :class:`~kubecis.audit.native.errors.Unsupported` for options it does not
    implement."""

    def __call__(self, ctx: Ctx, args: list[str], /) -> int: ...

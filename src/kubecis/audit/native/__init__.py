"""The native executor: benchmark audits interpreted in-process over a Host.

No process is ever spawned. Scripts using anything outside the implemented shell
subset and utilities give ``AuditResult(not_run="audit not supported natively: ...")``.

The package is a shell core (:mod:`.parser`, :mod:`.shell`, :mod:`.builtins`) plus one module per emulated
utility (:mod:`.utilities`, wired by one table); :class:`~kubecis.audit.native.context.Ctx` is all a utility
sees. Every run is bounded (:class:`~kubecis.audit.native.bounds.Budget`: commands, wall time,
data size); an audit over a bound is not evaluated (``not_run`` says which bound). Any
other exception escaping the interpreter is a bug, reported as ``not_run="internal
error in audit: <type>: <message>"`` rather than aborting the run.
"""

from __future__ import annotations

from kubecis.audit.native.executor import NativeExecutor
from kubecis.audit.native.static import unsupported_reason

__all__ = ["NativeExecutor", "unsupported_reason"]

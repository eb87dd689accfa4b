"""The one error type of runtime profiles; shown to the user as one line."""

from __future__ import annotations

from kubecis.seccomp.errors import SeccompError


class ProfileError(SeccompError):
    """A user-facing runtime-profile failure: bad profile, a rule that cannot be represented or enforced,
    a command that cannot be traced or started. A :class:`SeccompError`, so the seccomp parts it reuses
    report the same way."""

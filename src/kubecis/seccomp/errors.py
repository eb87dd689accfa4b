"""The one error type of the seccomp tools; shown to the user as one line."""

from __future__ import annotations

from kubecis.errors import KubecisError


class SeccompError(KubecisError):
    """A user-facing seccomp failure: bad profile, missing command, no ptrace/libseccomp."""

"""What every client of a cluster API shares without its transport: errors, kubectl's default server, the
redaction marker.

Kept apart from :mod:`kubecis.host.kubeapi` (which brings the ``kubernetes`` library's configuration
machinery) so that the native kubectl can name these without importing the transport.
"""

from __future__ import annotations

from kubecis.errors import HostError

__all__ = ["DEFAULT_SERVER", "MARKER", "ClusterUnreachable", "NeedsPlugin", "TransportError"]

DEFAULT_SERVER = "http://localhost:8080"
# What replaces secret material in anything kubecis records (snapshots, recorded API answers); the rules that
# decide what is secret are kubecis.host.redact's.
MARKER = "REDACTED-BY-KUBECIS"


class ClusterUnreachable(HostError):
    """The API server refused the connection. ``host`` is ``HOST[:PORT]`` as kubectl names it."""

    def __init__(self, host: str, url: str) -> None:
        super().__init__(host)
        self.host = host
        self.url = url


class TransportError(HostError):
    """The request could not be made (TLS failure, timeout, reset...). ``str()`` says why in one line."""


class NeedsPlugin(HostError):
    """The configuration runs a credential plugin (exec/auth-provider) and this caller does not allow it."""

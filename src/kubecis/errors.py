"""Errors that reach the user.

Every expected failure is a :class:`KubecisError`; the CLI prints its message as
one line on stderr and exits with its ``exit_code``. Anything else is a bug.

    KubecisError                 exit 1 unless stated
    ├── ConfigError              config dir / config.yaml missing or malformed
    ├── BenchmarkError           unknown benchmark, bad targets, malformed controls file
    │   └── LoadError            a YAML file that cannot be read (names file:line)
    ├── HostError                the host cannot be read (--root, snapshot)
    ├── AuditError               an executor could not run at all
    ├── OutputError              the report cannot be written
    ├── WaiverError              a waivers file that cannot be used (names file:line)
    ├── SinkError                a result sink failed (--store, --pgsql, --asff), after the report was written
    ├── StoreError               the history store cannot be opened, read or written
    └── UsageError               bad flag combination (exit 2)

    Terminated (a BaseException) SIGTERM arrived: unwinds like KeyboardInterrupt (exit 143)
"""

from __future__ import annotations


class KubecisError(Exception):
    """Root of the errors that are shown to the user as one line."""

    exit_code = 1


class ConfigError(KubecisError):
    pass


class BenchmarkError(KubecisError):
    pass


class LoadError(BenchmarkError):
    """A file that cannot be loaded; ``str()`` is ``file:line: message``."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class HostError(KubecisError):
    pass


class AuditError(KubecisError):
    pass


class OutputError(KubecisError):
    pass


class WaiverError(KubecisError):
    """A waivers file that cannot be used; each line of ``str()`` is ``file:line: message``."""


class SinkError(KubecisError):
    """A destination of the results (history store, PostgreSQL, Security Hub) failed; one line per sink."""


class StoreError(KubecisError):
    """The history store (``--store``) cannot be opened, read or written."""


class UsageError(KubecisError):
    exit_code = 2


class Terminated(BaseException):
    """SIGTERM: raised by the CLI's signal handler so that cleanup runs (never caught as an ordinary error)."""

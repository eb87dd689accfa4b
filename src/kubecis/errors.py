"""Errors: one tree rooted at :class:`KubecisError`.

Every expected failure is a :class:`KubecisError`; anything else escaping is a bug. Each branch says where
its errors surface: the CLI prints a run error as one line on stderr and exits with its ``exit_code``; an
audit error becomes the WARN reason of one check; a tool error is text an emulated tool prints.

    KubecisError                   exit 1 unless stated
    ├── ConfigError                config dir / config.yaml missing or malformed
    ├── BenchmarkError             unknown benchmark, bad targets, malformed controls file
    │   ├── LoadError              a YAML file that cannot be read (names file:line)
    │   └── VersionNotDetected     no benchmark chosen and none detected     (benchmark.versions)
    ├── HostError                  the host cannot be read (--root, snapshot, cluster API)
    │   ├── NotInSnapshot          a query a snapshot never recorded         (host.base)
    │   ├── JournalUnsupported     a journal the native reader declines      (host.journal)
    │   ├── ClusterUnreachable     the API server refused the connection     (host.kubeapi)
    │   ├── TransportError         the request could not be made             (host.kubeapi)
    │   ├── NeedsPlugin            a kubeconfig that runs a credential plugin (host.kubeapi)
    │   ├── NotNative              what a native client does not do          (host.cluster)
    │   ├── ApiError               an API request failed                     (cluster.api)
    │   ├── ObjectsError           an object dump that cannot be used        (policies.load)
    │   └── UnsafeDirError         a cache directory others could write to   (privdir; also an OSError)
    ├── DataError                  input data refused: malformed, or over a bound (also ValueErrors)
    │   ├── YamlLimitError         YAML over a bound                         (yamllimits)
    │   ├── PayloadError           a node payload that cannot be used        (cluster.payload)
    │   ├── Malformed              a config file the API server would refuse (configfiles)
    │   └── SelectorError          a label selector that cannot be parsed    (policies.selectors)
    ├── GoError                    a Go library refuses the input            (golang.errors)
    │   ├── JsonPathError, RegexpError, UnsupportedValueError, NotReproduced
    ├── OutputError                the report cannot be written
    ├── WaiverError                a waivers file that cannot be used (names file:line)
    ├── SinkError                  a result sink failed (--store, --pgsql, --asff), after the report was written
    ├── StoreError                 the history store cannot be opened, read or written
    │   └── SchemaError            the store's schema is not one we know     (store.schema)
    ├── SeccompError               seccomp learning / enforcement failed     (seccomp.errors)
    │   └── ProfileError           a runtime profile cannot be used          (profile.errors)
    ├── UsageError                 bad flag combination (exit 2)
    │   └── ProbeUsageError        bad arguments to a probe                  (probes)
    ├── AuditError                 an audit is not evaluated: its check is WARN with the message
    │   ├── AuditUndecided         an in-process audit cannot decide         (audit.base)
    │   ├── Undecided              a policies probe without the objects      (policies.source)
    │   ├── LimitExceeded          over a bound of the native interpreter    (audit.native.errors)
    │   └── Unsupported            outside the native subset                 (audit.native.errors)
    │       ├── Irreproducible     a fact whose output cannot be reproduced
    │       ├── ShellSyntaxError   malformed script
    │       │   └── DashSyntaxError   one whose dash message is reproduced
    │       └── JqCompileError     a jq program outside the subset           (utilities.jq)
    └── ToolError                  an emulated tool's own error: it prints the message, the audit goes on
        ├── ArithError             dash's arithmetic                         (audit.native.arith)
        ├── PosixRegexError        grep/sed pattern GNU rejects              (audit.native.regex)
        ├── JqError                jq's error (catchable by try)             (utilities.jq)
        └── KubectlError           kubectl prints it and exits 1             (utilities.kubectl)

Not errors, so outside the tree:

    Terminated (a BaseException)   SIGTERM arrived: unwinds like KeyboardInterrupt (exit 143)
    ShellSignal                    exit / return / break / continue of the native shell (audit.native.flow);
                                   raised by builtins, caught by the interpreter, never leave an audit

Module-private exceptions that never leave their module: ``audit.native.builtins._TestError``,
``utilities.openssl._Bad``, ``host.snapshot._Corrupt``, ``host.journal._Truncated``.
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "BenchmarkError",
    "ConfigError",
    "DataError",
    "HostError",
    "KubecisError",
    "LoadError",
    "OutputError",
    "SinkError",
    "StoreError",
    "Terminated",
    "ToolError",
    "UsageError",
    "WaiverError",
]


class KubecisError(Exception):
    """Root of kubecis's errors (see the tree above)."""

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


class DataError(KubecisError):
    """Input data refused: malformed, or over one of kubecis's bounds."""


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


class AuditError(KubecisError):
    """An audit that is not evaluated: the check is WARN with this message (never a run error)."""


class ToolError(KubecisError):
    """An emulated tool's own error: the tool prints the message and exits non-zero, as the real one does."""


class Terminated(BaseException):
    """SIGTERM: raised by the CLI's signal handler so that cleanup runs (never caught as an ordinary error)."""

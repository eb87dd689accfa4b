"""``--pgsql``: kube-bench's PostgreSQL sink, same environment, same table, same rows.

See kube-bench-compat.md#postgresql-sink.

Connection: ``KUBE_BENCH_PGSQL_HOST``, ``_USER``, ``_DBNAME``, ``_SSLMODE``, ``_PASSWORD`` (each required,
as in kube-bench), plus kubecis's optional ``KUBE_BENCH_PGSQL_PORT`` (otherwise libpq's default: ``PGPORT``
or 5432). The table is created when missing exactly as kube-bench's ORM (GORM) creates it::

    scan_results(id bigserial primary key, created_at, updated_at, deleted_at timestamptz (indexed),
                 scan_host varchar(63) not null, scan_time timestamptz not null, scan_info jsonb not null)

and one row is inserted per controls object (target) in one transaction: ``scan_host`` is
``KUBE_BENCH_K8S_HOST`` (at most 63 characters) or the node's name, ``scan_info`` that controls object as
kube-bench's JSON writes it. Unlike kube-bench, no SQL is echoed to stdout (the report is there).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubecis.errors import ConfigError, SinkError
from kubecis.report.json import encode
from kubecis.results.model import RunResult

PREFIX = "KUBE_BENCH_PGSQL_"
REQUIRED = ("HOST", "USER", "DBNAME", "SSLMODE", "PASSWORD")
MAX_HOST = 63

CREATE = (
    "CREATE TABLE IF NOT EXISTS scan_results ("
    "id bigserial PRIMARY KEY, created_at timestamptz, updated_at timestamptz, deleted_at timestamptz, "
    "scan_host varchar(63) NOT NULL, scan_time timestamptz NOT NULL, scan_info jsonb NOT NULL)",
    "CREATE INDEX IF NOT EXISTS idx_scan_results_deleted_at ON scan_results (deleted_at)",
)
INSERT = ("INSERT INTO scan_results (created_at, updated_at, scan_host, scan_time, scan_info) "
          "VALUES (%s, %s, %s, %s, %s::jsonb)")


@dataclass(frozen=True, slots=True)
class PgsqlSettings:
    host: str
    user: str
    dbname: str
    sslmode: str
    password: str
    port: str = ""
    scan_host: str = ""  # KUBE_BENCH_K8S_HOST; "" : the node's name

    def connect_kwargs(self, env: Mapping[str, str]) -> dict[str, Any]:
        kw: dict[str, Any] = {"host": self.host, "user": self.user, "dbname": self.dbname, "sslmode": self.sslmode,
                              "password": self.password, "application_name": "kubecis"}
        if self.port:
            kw["port"] = self.port
        if "PGCONNECT_TIMEOUT" not in env:
            kw["connect_timeout"] = 10
        return kw


def settings_from_env(env: Mapping[str, str] | None = None) -> PgsqlSettings:
    """The connection settings; a missing one is kube-bench's error (checked before any check runs)."""
    env = os.environ if env is None else env
    values = {}
    for key in REQUIRED:
        value = env.get(PREFIX + key, "")
        if not value:
            raise ConfigError(f"--pgsql: {PREFIX}{key} env var is required")
        values[key.lower()] = value
    scan_host = env.get("KUBE_BENCH_K8S_HOST", "")
    if len(scan_host) > MAX_HOST:
        raise ConfigError("--pgsql: KUBE_BENCH_K8S_HOST value's length must be less than 63 chars")
    return PgsqlSettings(**values, port=env.get(PREFIX + "PORT", ""), scan_host=scan_host)


def _no_nul(value: Any) -> Any:
    """PostgreSQL's jsonb cannot hold U+0000: such characters (from binary audit output) become U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {k: _no_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nul(v) for v in value]
    return value


def rows(run: RunResult, scan_host: str, now: dt.datetime) -> list[tuple[Any, ...]]:
    """The rows kube-bench inserts: (created_at, updated_at, scan_host, scan_time, scan_info JSON)."""
    return [(now, now, scan_host, now, encode(_no_nul(c.to_dict()))) for c in run.sorted().controls]


def save(run: RunResult, settings: PgsqlSettings, now: dt.datetime | None = None,
         env: Mapping[str, str] | None = None) -> int:
    """Insert the run's rows; returns how many. Every failure is one :class:`SinkError` line."""
    scan_host = settings.scan_host or run.node
    if not scan_host:
        raise SinkError("--pgsql: no host name for scan_host (set KUBE_BENCH_K8S_HOST)")
    if len(scan_host) > MAX_HOST:
        raise SinkError(f"--pgsql: the node name {scan_host[:20]}... is longer than 63 characters "
                        "(scan_host is varchar(63)); set KUBE_BENCH_K8S_HOST")
    try:
        import psycopg
    except ImportError:  # pragma: no cover - a dependency
        raise SinkError("--pgsql needs psycopg: pip install 'psycopg[binary]'") from None
    now = now or dt.datetime.now(dt.UTC)
    data = rows(run, scan_host, now)
    try:
        with psycopg.connect(**settings.connect_kwargs(os.environ if env is None else env)) as conn, \
                conn.cursor() as cur:
            for stmt in CREATE:
                cur.execute(stmt)
            cur.executemany(INSERT, data)
    except psycopg.Error as e:
        raise SinkError(f"--pgsql ({settings.user}@{settings.host}/{settings.dbname}): {_message(e)}") from None
    return len(data)


def _message(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    if not lines:
        return type(e).__name__
    text = lines[0]
    if text.startswith("Multiple connection attempts failed") and len(lines) > 1:
        text = lines[-1].lstrip("- ")
    text = re.sub(r"^connection failed: ", "", text)
    return re.sub(r"\s+", " ", text.replace("FATAL: ", ""))

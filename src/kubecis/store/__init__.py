"""History: every run can be stored (``--store [URL]``), listed (``kubecis history``) and compared
(``kubecis diff``).

A store is a SQLite file (the default: ``$XDG_DATA_HOME/kubecis/history.db``, else
``~/.local/share/kubecis/history.db``; or ``sqlite:///PATH``, or a plain path) or a PostgreSQL database
(``postgresql://user:password@host:port/db``, through SQLAlchemy and psycopg 3). A scan is one node's
results at one time, keyed by cluster and node; the scans one invocation makes share a ``batch``. A cluster
scan or collect (``origin`` ``cluster``) stores one scan per node, a node it could not evaluate as a scan with
``state`` ``not_evaluated``, its reason and no checks, and the cluster-wide targets (policies) as a scan of
``scope`` ``cluster`` with no node, all in one batch and one transaction. SQLAlchemy is imported only here, so
a run without ``--store`` never loads it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from kubecis import __version__
from kubecis.errors import StoreError, UsageError
from kubecis.results.model import STATUSES, RunResult, StatusCounts
from kubecis.store import schema
from kubecis.store.schema import scan_checks, scans

MAX_TEXT = 64 * 1024  # evidence kept per check (an audit may print up to 1 MiB)
_TRUNCATED = "\n[... truncated by kubecis: the store keeps the first 64 KiB]"


def default_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "kubecis" / "history.db"


def normalize_url(url: str) -> str:
    """``--store`` as SQLAlchemy wants it: a plain path or ``sqlite:`` is SQLite, ``postgres(ql):`` psycopg."""
    if not url:
        return "sqlite:///" + str(default_path())
    if "://" not in url:
        return "sqlite:///" + str(Path(url).expanduser().absolute())
    scheme, rest = url.split("://", 1)
    base = scheme.split("+", 1)[0].lower()
    if base in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + rest
    if base == "sqlite":
        return "sqlite://" + rest
    raise UsageError(f"--store {scheme}://...: unsupported database (a SQLite path or sqlite:/// URL, or "
                     "postgresql://user:password@host:port/db)")


def display_url(url: str) -> str:
    """The URL for messages: the password masked."""
    if "://" not in url:
        return url or str(default_path())
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", url)


EVALUATED, NOT_EVALUATED = "evaluated", "not_evaluated"
NODE, CLUSTER = "node", "cluster"  # a scan's scope: a node's targets, or the cluster-wide ones (no node)
RUN = "run"  # origin of a node's own run; CLUSTER: one node of a cluster scan or collect


@dataclass(frozen=True, slots=True)
class Scan:
    id: int
    batch: str
    cluster: str
    node: str
    scanned_at: str  # RFC 3339, UTC
    benchmark: str
    detected_version: str
    kubecis_version: str
    counts: StatusCounts
    state: str = EVALUATED
    reason: str = ""  # why it was not evaluated
    scope: str = NODE
    origin: str = RUN

    @property
    def evaluated(self) -> bool:
        return self.state == EVALUATED

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "batch": self.batch, "cluster": self.cluster, "node": self.node,
                "scope": self.scope, "origin": self.origin, "state": self.state, "reason": self.reason,
                "scanned_at": self.scanned_at, "benchmark": self.benchmark,
                "detected_version": self.detected_version, "kubecis_version": self.kubecis_version,
                "totals": self.counts.as_dict()}


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One scan of a batch: a node's (or the policies') results, or ``run=None`` for one not evaluated."""

    run: RunResult | None
    node: str
    cluster: str
    scanned_at: str  # RFC 3339, UTC
    benchmark: str = ""
    reason: str = ""  # why it was not evaluated
    scope: str = NODE


@dataclass(frozen=True, slots=True)
class Batch:
    """The scans one invocation stored: a cluster scan's whole fleet, or one run."""

    id: str
    cluster: str
    origin: str
    scanned_at: str
    nodes: int  # node scans (the policies' scan not counted)
    evaluated: int  # of them
    counts: StatusCounts  # over the evaluated scans, policies included

    def to_dict(self) -> dict[str, Any]:
        return {"batch": self.id, "cluster": self.cluster, "origin": self.origin, "scanned_at": self.scanned_at,
                "nodes": self.nodes, "evaluated": self.evaluated, "not_evaluated": self.nodes - self.evaluated,
                "totals": self.counts.as_dict()}


@dataclass(frozen=True, slots=True)
class StoredCheck:
    check_id: str
    target: str
    node_type: str
    section: str
    text: str
    status: str
    scored: bool
    reason: str
    actual_value: str
    expected_result: str
    remediation: str
    waiver: str


def _rfc3339(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_time(text: str) -> dt.datetime:
    if not text:
        return dt.datetime.now(dt.UTC)
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _clip(text: str) -> str:
    text = text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + _TRUNCATED


class Store:
    """An open history store (migrated to the current schema)."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url  # as given, for messages

    # ---- opening -------------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str = "", *, create: bool = True) -> Store:
        """Open (and migrate) the store at ``url`` ("" the default SQLite file).

        ``create``: make the SQLite file (and its directory) when missing; otherwise a missing store is an
        error (``history`` and ``diff`` read only)."""
        shown = display_url(url)
        engine = engine_for(url, create=create)
        store = cls(engine, shown)
        try:
            with store._errors("cannot open the store"), engine.begin() as conn:
                if not create and schema.current_version(conn) is None:
                    raise StoreError(f"--store {shown}: no kubecis store in this database (`kubecis run --store` "
                                     "creates it)")
                try:
                    schema.migrate(conn)
                except schema.SchemaError as e:
                    raise StoreError(f"--store {shown}: {e}") from None
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(f"--store {self.url}: {doing}: {_db_message(e)}") from None
        except OSError as e:
            raise StoreError(f"--store {self.url}: {doing}: {e.strerror or e}") from None

    # ---- writing -------------------------------------------------------------------------------------
    def save(self, run: RunResult, batch: str = "") -> int:
        """Store one node's results; returns the scan id."""
        item = BatchItem(run, run.node, run.cluster, run.scanned_at, run.benchmark)
        return self.save_batch([item], batch or uuid.uuid4().hex, origin=RUN)[0]

    def save_batch(self, items: Iterable[BatchItem], batch: str, *, origin: str = CLUSTER) -> list[int]:
        """Store a batch (every node of a cluster scan, evaluated or not, and its policies) in one transaction;
        returns the scan ids in order."""
        ids: list[int] = []
        with self._errors("cannot save the scan"), self.engine.begin() as conn:
            for item in items:
                ids.append(self._insert(conn, item, batch, origin))
        return ids

    def _insert(self, conn: Connection, item: BatchItem, batch: str, origin: str) -> int:
        run = item.run
        counts = run.status_counts if run is not None else StatusCounts()
        detected = next((c.detected_version for c in run.controls if c.detected_version), "") if run else ""
        when = _parse_time(item.scanned_at)
        row = {
            "batch": batch,
            "cluster": item.cluster,
            "node": item.node,
            "scanned_at": when.astimezone(dt.UTC).replace(tzinfo=None) if self.engine.dialect.name == "sqlite"
            else when,
            "benchmark": (run.benchmark if run is not None else "") or item.benchmark,
            "detected_version": detected,
            "kubecis_version": __version__,
            **{f"total_{s.lower()}": counts.get(s) for s in STATUSES},
            "state": EVALUATED if run is not None else NOT_EVALUATED,
            "reason": _clip(item.reason) if run is None else "",
            "scope": item.scope,
            "origin": origin,
        }
        scan_id = int(conn.execute(scans.insert().values(**row).returning(scans.c.id)).scalar_one())
        if run is None:
            return scan_id
        rows = [
            {
                "scan_id": scan_id, "target": controls.id, "node_type": controls.node_type,
                "section": group.id, "check_id": check.id, "text": _clip(check.text),
                "state": check.status, "scored": check.scored, "reason": _clip(check.reason),
                "actual_value": _clip(check.actual_value), "expected_result": _clip(check.expected_result),
                "remediation": _clip(check.remediation),
                "waiver": check.waiver.describe() if check.waiver is not None else "",
            }
            for controls, group, check in run.sorted().checks()
        ]
        if rows:
            conn.execute(scan_checks.insert(), rows)
        return scan_id

    # ---- reading -------------------------------------------------------------------------------------
    def scans(self, *, cluster: str | None = None, node: str | None = None, limit: int | None = None,
              newest_first: bool = True, batch: str | None = None, scope: str | None = None,
              origin: str | None = None) -> list[Scan]:
        q = sa.select(scans)
        for col, value in ((scans.c.cluster, cluster), (scans.c.node, node), (scans.c.batch, batch),
                           (scans.c.scope, scope), (scans.c.origin, origin)):
            if value is not None:
                q = q.where(col == value)
        order = (scans.c.scanned_at.desc(), scans.c.id.desc()) if newest_first else (scans.c.scanned_at,
                                                                                       scans.c.id)
        q = q.order_by(*order)
        if limit is not None:
            q = q.limit(limit)
        with self._errors("cannot read the store"), self.engine.connect() as conn:
            return [_scan(r) for r in conn.execute(q).mappings()]

    def batches(self, *, cluster: str | None = None, origin: str | None = None, limit: int | None = None,
                batch: str | None = None) -> list[Batch]:
        """Batches, newest first (by their first scan's time)."""
        ev = (scans.c.state == EVALUATED)
        node = (scans.c.scope == NODE)
        cols = [
            scans.c.batch, sa.func.min(scans.c.cluster).label("cluster"), sa.func.min(scans.c.origin).label("origin"),
            sa.func.min(scans.c.scanned_at).label("scanned_at"), sa.func.max(scans.c.id).label("last"),
            sa.func.sum(sa.case((node, 1), else_=0)).label("nodes"),
            sa.func.sum(sa.case((node & ev, 1), else_=0)).label("evaluated"),
            *(sa.func.sum(scans.c[f"total_{s.lower()}"]).label(s) for s in STATUSES),
        ]
        q = sa.select(*cols).group_by(scans.c.batch)
        if cluster is not None:
            q = q.where(scans.c.cluster == cluster)
        if origin is not None:
            q = q.where(scans.c.origin == origin)
        if batch is not None:
            q = q.where(scans.c.batch == batch)
        q = q.order_by(sa.desc("scanned_at"), sa.desc("last"))
        if limit is not None:
            q = q.limit(limit)
        with self._errors("cannot read the store"), self.engine.connect() as conn:
            return [Batch(r["batch"], r["cluster"], r["origin"], _rfc3339(r["scanned_at"]), int(r["nodes"] or 0),
                          int(r["evaluated"] or 0), StatusCounts(*(int(r[s] or 0) for s in STATUSES)))
                    for r in conn.execute(q).mappings()]

    def batch(self, ref: str) -> Batch:
        """A batch by its id or a unique prefix of it (at least 4 characters)."""
        if len(ref) < 4:
            raise StoreError(f"--store {self.url}: batch {ref!r}: give at least 4 characters of its id")
        pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = sa.select(scans.c.batch).where(scans.c.batch.like(pattern, escape="\\")).distinct().limit(2)
        with self._errors("cannot read the store"), self.engine.connect() as conn:
            found = [str(r[0]) for r in conn.execute(q)]
        if not found:
            raise StoreError(f"--store {self.url}: no batch {ref} (see `kubecis history --batches`)")
        if len(found) > 1:
            raise StoreError(f"--store {self.url}: batch {ref} is ambiguous ({found[0]}, {found[1]}, ...)")
        return self.batches(batch=found[0])[0]

    def scan(self, scan_id: int) -> Scan:
        with self._errors("cannot read the store"), self.engine.connect() as conn:
            r = conn.execute(sa.select(scans).where(scans.c.id == scan_id)).mappings().first()
        if r is None:
            raise StoreError(f"--store {self.url}: no scan {scan_id} (see `kubecis history`)")
        return _scan(r)

    def checks(self, scan_id: int) -> dict[str, StoredCheck]:
        """The checks of a scan by check id (the first one when an id repeats)."""
        q = sa.select(scan_checks).where(scan_checks.c.scan_id == scan_id).order_by(scan_checks.c.id)
        out: dict[str, StoredCheck] = {}
        with self._errors("cannot read the store"), self.engine.connect() as conn:
            for r in conn.execute(q).mappings():
                out.setdefault(r["check_id"], StoredCheck(
                    r["check_id"], r["target"], r["node_type"], r["section"], r["text"], r["state"],
                    bool(r["scored"]), r["reason"], r["actual_value"], r["expected_result"], r["remediation"],
                    r["waiver"]))
        return out


def engine_for(url: str, *, create: bool = True) -> Engine:
    """A SQLAlchemy engine for ``--store URL`` (SQLite with real transactions, psycopg for PostgreSQL)."""
    real = normalize_url(url)
    shown = display_url(url)
    try:
        parsed = sa.engine.make_url(real)
    except sa.exc.ArgumentError:
        raise UsageError(f"--store {shown}: not a database URL") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database or ""
        if db and db != ":memory:":
            _prepare_sqlite(Path(db), shown, create=create, make_parents=not url)
        kwargs["connect_args"] = {"timeout": 30}
    elif "connect_timeout" not in parsed.query and "PGCONNECT_TIMEOUT" not in os.environ:
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa.exc.ArgumentError, ImportError) as e:
        raise StoreError(f"--store {shown}: {_first_line(e)}") from None
    if engine.dialect.name == "sqlite":
        _transactional_sqlite(engine)
    return engine


def _scan(r: Any) -> Scan:
    counts = StatusCounts(r["total_pass"], r["total_fail"], r["total_warn"], r["total_info"], r["total_waived"])
    return Scan(r["id"], r["batch"], r["cluster"], r["node"], _rfc3339(r["scanned_at"]), r["benchmark"],
                r["detected_version"], r["kubecis_version"], counts, r["state"], r["reason"], r["scope"],
                r["origin"])


def _prepare_sqlite(path: Path, shown: str, *, create: bool, make_parents: bool) -> None:
    """Clear messages for the SQLite file's usual problems (SQLite itself only says "unable to open").

    Only the default store's directory is created; a path given on the command line must be in an existing
    directory (a typo never makes directories as root)."""
    if path.exists():
        if path.is_dir():
            raise StoreError(f"--store {shown}: is a directory")
        return
    if not create:
        raise StoreError(f"--store {shown}: no such store (`kubecis run --store` creates it)")
    if make_parents:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"--store {shown}: cannot create {path.parent}: {e.strerror or e}") from None
    elif not path.parent.is_dir():
        raise StoreError(f"--store {shown}: directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreError(f"--store {shown}: cannot create the store: {path.parent} is not writable")


def _transactional_sqlite(engine: Engine) -> None:
    """pysqlite's legacy mode commits before DDL; SQLAlchemy's recipe makes migrations one real transaction."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA foreign_keys = ON")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return re.sub(r"\s+", " ", text[0]) if text else type(e).__name__


def _db_message(e: sa.exc.SQLAlchemyError) -> str:
    """The driver's own words, one line: 'connection refused', 'password authentication failed ...'."""
    orig = getattr(e, "orig", None)
    msg = _first_line(orig) if orig is not None else _first_line(e)
    msg = re.sub(r"^\(\S+\) ", "", msg)
    msg = re.sub(r"^connection failed: ", "", msg)
    return msg.replace("FATAL: ", "")

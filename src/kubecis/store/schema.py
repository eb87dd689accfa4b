"""The history store's schema and its migrations.

The schema is versioned in a one-row table ``kubecis_schema``. Opening a store brings it to
:data:`LATEST` by running the missing migrations in order, in one transaction (PostgreSQL and SQLite both
roll DDL back), serialized between concurrent kubecis processes (an advisory lock on PostgreSQL, the
database lock on SQLite). A store written by a newer kubecis is refused, never downgraded.

Why not Alembic: two tables, migrations that are a few ``ALTER TABLE ... ADD COLUMN`` statements, and a
store that must be created and migrated by ``kubecis run`` on a node from the installed package. Alembic
would add Mako, a script directory and its env.py to ship and import, for what :data:`MIGRATIONS` does in
a few lines. Each migration is frozen once released: its DDL never changes, a new one is appended.

Versions:
  1  scans (node, time, benchmark, totals) and scan_checks (one row per check: state, evidence)
  2  cluster and batch (a scan's identity beyond the node, and the scans one invocation made), waived
     count, detected Kubernetes version, kubecis version; per check: remediation and waiver; an index on
     (cluster, node, scanned_at) for history and diff
  3  fleets: a scan's state (``evaluated`` or ``not_evaluated``, with the reason: a node a cluster scan could
     not evaluate is stored too, without checks), scope (``node``, or ``cluster`` for the cluster-wide
     targets evaluated once) and origin (``run``: a node's own run; ``cluster``: one node of a cluster scan or
     collect, the batch being the whole fleet); an index on batch
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from kubecis.errors import StoreError

SCHEMA_TABLE = "kubecis_schema"
_LOCK_ID = 0x6B756265636973  # "kubecis": the advisory lock that serializes migrations on PostgreSQL


def _v1(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "scans", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("node", sa.String(253), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("benchmark", sa.String(100), nullable=False),
        sa.Column("total_pass", sa.Integer, nullable=False),
        sa.Column("total_fail", sa.Integer, nullable=False),
        sa.Column("total_warn", sa.Integer, nullable=False),
        sa.Column("total_info", sa.Integer, nullable=False),
    )
    sa.Table(
        "scan_checks", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("node_type", sa.String(40), nullable=False),
        sa.Column("section", sa.String(40), nullable=False),
        sa.Column("check_id", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("scored", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actual_value", sa.Text, nullable=False),
        sa.Column("expected_result", sa.Text, nullable=False),
    )
    md.create_all(conn)


def _v2(conn: Connection) -> None:
    for stmt in (
        "ALTER TABLE scans ADD COLUMN cluster VARCHAR(253) NOT NULL DEFAULT ''",
        "ALTER TABLE scans ADD COLUMN batch VARCHAR(64) NOT NULL DEFAULT ''",
        "ALTER TABLE scans ADD COLUMN total_waived INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE scans ADD COLUMN detected_version VARCHAR(40) NOT NULL DEFAULT ''",
        "ALTER TABLE scans ADD COLUMN kubecis_version VARCHAR(40) NOT NULL DEFAULT ''",
        "ALTER TABLE scan_checks ADD COLUMN remediation TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE scan_checks ADD COLUMN waiver TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX ix_scans_cluster_node_time ON scans (cluster, node, scanned_at)",
    ):
        conn.execute(sa.text(stmt))
    # A scan of version 1 was one node scanned on its own: its batch is itself.
    conn.execute(sa.text("UPDATE scans SET batch = 'scan-' || CAST(id AS VARCHAR(20)) WHERE batch = ''"))


def _v3(conn: Connection) -> None:
    for stmt in (
        "ALTER TABLE scans ADD COLUMN state VARCHAR(20) NOT NULL DEFAULT 'evaluated'",
        "ALTER TABLE scans ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE scans ADD COLUMN scope VARCHAR(20) NOT NULL DEFAULT 'node'",
        "ALTER TABLE scans ADD COLUMN origin VARCHAR(20) NOT NULL DEFAULT 'run'",
        "CREATE INDEX ix_scans_batch ON scans (batch)",
    ):
        conn.execute(sa.text(stmt))


# MIGRATIONS[n - 1] brings a store from version n - 1 to version n.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1, _v2, _v3)
LATEST = len(MIGRATIONS)

# The current tables, for queries (never for creating them: the migrations do that).
metadata = sa.MetaData()
scans = sa.Table(
    "scans", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch", sa.String(64), nullable=False),
    sa.Column("cluster", sa.String(253), nullable=False),
    sa.Column("node", sa.String(253), nullable=False),
    sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("benchmark", sa.String(100), nullable=False),
    sa.Column("detected_version", sa.String(40), nullable=False),
    sa.Column("kubecis_version", sa.String(40), nullable=False),
    sa.Column("total_pass", sa.Integer, nullable=False),
    sa.Column("total_fail", sa.Integer, nullable=False),
    sa.Column("total_warn", sa.Integer, nullable=False),
    sa.Column("total_info", sa.Integer, nullable=False),
    sa.Column("total_waived", sa.Integer, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("scope", sa.String(20), nullable=False),
    sa.Column("origin", sa.String(20), nullable=False),
)
scan_checks = sa.Table(
    "scan_checks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
    sa.Column("target", sa.String(40), nullable=False),
    sa.Column("node_type", sa.String(40), nullable=False),
    sa.Column("section", sa.String(40), nullable=False),
    sa.Column("check_id", sa.String(40), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("scored", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actual_value", sa.Text, nullable=False),
    sa.Column("expected_result", sa.Text, nullable=False),
    sa.Column("remediation", sa.Text, nullable=False),
    sa.Column("waiver", sa.Text, nullable=False),
)
_version = sa.Table(SCHEMA_TABLE, sa.MetaData(), sa.Column("version", sa.Integer, nullable=False))


class SchemaError(StoreError):
    """The database is not a kubecis store, or one written by a newer kubecis."""


def current_version(conn: Connection) -> int | None:
    """The store's schema version; None when the database has no kubecis store yet."""
    if not sa.inspect(conn).has_table(SCHEMA_TABLE):
        return None
    value = conn.execute(sa.select(_version.c.version)).scalar()
    return int(value) if value is not None else 0


def migrate(conn: Connection, target: int = LATEST) -> tuple[int, int]:
    """Bring the store to version ``target`` (creating it if needed); returns (from, to)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    found = current_version(conn)
    if found is None:
        if sa.inspect(conn).has_table("scans"):
            raise SchemaError("the database has a 'scans' table but no kubecis_schema: not a kubecis store")
        _version.create(conn)
        conn.execute(_version.insert().values(version=0))
        found = 0
    if found > LATEST:
        raise SchemaError(f"the store has schema version {found}, newer than this kubecis knows ({LATEST}): "
                          "upgrade kubecis")
    for version in range(found + 1, target + 1):
        MIGRATIONS[version - 1](conn)
        conn.execute(_version.update().values(version=version))
    return found, max(found, target)

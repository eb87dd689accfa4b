"""The history store on SQLite and on a real PostgreSQL server, with the same test code: saving, listing,
diffing, migrating a store of an older schema version, and every way it can fail (one clear line)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from kubecis.errors import StoreError, UsageError
from kubecis.results.model import RunResult, State
from kubecis.results.waivers import apply, parse
from kubecis.store import MAX_TEXT, Store, default_path, display_url, engine_for, normalize_url, schema
from kubecis.store.diff import CATEGORIES, category, node_diff
from tests.dbs import closed_port, with_database
from tests.report.sample import sample_run


def run_at(when: str, node: str = "cp-1", cluster: str = "prod", **states: State) -> RunResult:
    run = sample_run(node=node, cluster=cluster)
    run.scanned_at = when
    for _, group, check in run.checks():
        key = "c" + check.id.replace(".", "_")
        if key in states:
            group.counts.add(states[key])  # counts are not what is compared here; keep them plausible
            check.state = states[key]
    return run


def changes(d) -> dict[str, list[tuple[str, str, str]]]:
    return {cat: [(c.check_id, c.before, c.after) for c in d.changes[cat]] for cat in CATEGORIES if d.changes[cat]}


def test_save_list_and_read_back(store_url):
    waived = apply(run_at("2025-03-02T08:00:00Z"), parse(
        "waivers:\n  - {id: w, checks: ['1.2.4'], reason: ok, expires: 2030-01-01}\n", "w.yaml"), dt.date(2025, 3, 2))
    with Store.open(store_url) as store:
        a = store.save(run_at("2025-03-01T08:00:00Z"))
        b = store.save(waived, batch="batch-b")
        c = store.save(run_at("2025-03-01T09:00:00Z", node="worker-1"))
        d = store.save(run_at("2025-03-01T10:00:00Z", cluster="staging"))
        scans = store.scans()
        assert [s.id for s in scans] == [b, d, c, a]  # newest first
        assert [s.id for s in store.scans(cluster="prod", node="cp-1")] == [b, a]
        assert [s.id for s in store.scans(limit=1)] == [b]
        assert [s.id for s in store.scans(newest_first=False, node="cp-1")] == [a, d, b]
        s = store.scan(b)
        assert (s.batch, s.cluster, s.node, s.scanned_at, s.benchmark, s.detected_version) == (
            "batch-b", "prod", "cp-1", "2025-03-02T08:00:00Z", "cis-1.12", "1.33")
        assert s.counts.as_dict() == {"PASS": 2, "FAIL": 1, "WARN": 3, "INFO": 1, "WAIVED": 1}
        checks = store.checks(b)
        assert list(checks) == ["1.1.1", "1.1.2", "1.2.1", "1.2.2", "1.2.3", "1.2.4", "4.2.1", "4.2.2"]
        c124 = checks["1.2.4"]
        assert (c124.status, c124.target, c124.node_type, c124.section) == ("WAIVED", "1", "master", "1.2")
        assert c124.waiver == "waived (w, until 2030-01-01; was FAIL): ok"
        assert c124.actual_value == "=HYPERLINK(\"http://evil\")\n\ufffd bad byte"  # surrogate made valid text
        assert checks["1.1.1"].remediation == "chmod 600 /etc/kubernetes/manifests/kube-apiserver.yaml"
        with pytest.raises(StoreError, match=r"no scan 999 \(see `kubecis history`\)"):
            store.scan(999)


def test_evidence_is_clipped_and_nul_is_kept_out(store_url):
    run = run_at("2025-03-01T08:00:00Z")
    run.controls[1].groups[0].checks[0].actual_value = "a\x00b" + "x" * (MAX_TEXT + 10)
    with Store.open(store_url) as store:
        got = store.checks(store.save(run))["1.1.1"].actual_value
    assert got.startswith("a\ufffdbxxx")
    assert got.endswith("[... truncated by kubecis: the store keeps the first 64 KiB]")
    assert len(got) < MAX_TEXT + 100


def test_diff_categories_between_stored_scans(store_url):
    with Store.open(store_url) as store:
        a = store.save(run_at("2025-03-01T08:00:00Z"))
        b = store.save(run_at("2025-03-08T08:00:00Z", c1_1_2=State.FAIL, c1_1_1=State.PASS, c4_2_1=State.WARN,
                              c1_2_2=State.PASS))
        before, after = store.scan(a), store.scan(b)
        d = node_diff(before, after, store.checks(a), store.checks(b))
    assert (d.cluster, d.node, d.benchmark_changed) == ("prod", "cp-1", False)
    assert changes(d) == {
        "newly_failing": [("1.1.2", "PASS", "FAIL")],
        "fixed": [("1.1.1", "FAIL", "PASS")],
        "newly_not_evaluated": [("4.2.1", "PASS", "WARN")],
        "changed": [("1.2.2", "WARN", "PASS")],
    }


@pytest.mark.parametrize(("before", "after", "cat"), [
    ("PASS", "FAIL", "newly_failing"), ("WAIVED", "FAIL", "newly_failing"), ("", "FAIL", "newly_failing"),
    ("FAIL", "PASS", "fixed"), ("WAIVED", "PASS", "fixed"),
    ("PASS", "WARN", "newly_not_evaluated"), ("FAIL", "INFO", "newly_not_evaluated"),
    ("FAIL", "WAIVED", "newly_waived"), ("WARN", "WAIVED", "newly_waived"),
    ("WARN", "PASS", "changed"), ("INFO", "WARN", "changed"),
    ("", "PASS", "added"), ("PASS", "", "removed"), ("FAIL", "", "removed"), ("PASS", "PASS", None),
])
def test_category(before, after, cat):
    assert category(before, after) == cat


# ---- schema versions ------------------------------------------------------------------------------------
V1_SCAN = ("INSERT INTO scans (node, scanned_at, benchmark, total_pass, total_fail, total_warn, total_info) "
           "VALUES ('cp-1', :t, 'cis-1.11', 1, 1, 0, 0)")
V1_CHECK = ("INSERT INTO scan_checks (scan_id, target, node_type, section, check_id, text, state, scored, reason, "
            "actual_value, expected_result) VALUES (:s, '1', 'master', '1.1', :c, :t, :st, :sc, '', :av, '')")


def _engine(url: str) -> sa.Engine:
    return engine_for(url)


def test_a_store_of_schema_version_1_is_migrated(store_url):
    engine = _engine(store_url)
    with engine.begin() as conn:  # what kubecis with schema version 1 wrote
        assert schema.migrate(conn, target=1) == (0, 1)
        conn.execute(sa.text(V1_SCAN).bindparams(sa.bindparam("t", type_=sa.DateTime())),  # as the ORM binds it
                     {"t": dt.datetime(2025, 1, 1, 8, 0)})
        sid = conn.execute(sa.text("SELECT max(id) FROM scans")).scalar_one()
        for cid, st in (("1.1.1", "FAIL"), ("1.1.2", "PASS")):
            conn.execute(sa.text(V1_CHECK), {"s": sid, "c": cid, "t": cid, "st": st, "sc": True, "av": f"v-{cid}"})
        assert schema.current_version(conn) == 1
        assert "cluster" not in {c["name"] for c in sa.inspect(conn).get_columns("scans")}
    engine.dispose()

    with Store.open(store_url) as store:  # today's kubecis opens it: migrated to the latest version
        with store.engine.connect() as conn:
            assert schema.current_version(conn) == schema.LATEST == 3
            assert "ix_scans_cluster_node_time" in {i["name"] for i in sa.inspect(conn).get_indexes("scans")}
        [old] = store.scans()
        assert (old.id, old.batch, old.cluster, old.node, old.benchmark, old.scanned_at) == (
            sid, f"scan-{sid}", "", "cp-1", "cis-1.11", "2025-01-01T08:00:00Z")
        assert old.counts.as_dict() == {"PASS": 1, "FAIL": 1, "WARN": 0, "INFO": 0, "WAIVED": 0}
        assert store.checks(sid)["1.1.1"].actual_value == "v-1.1.1"
        new_run = run_at("2025-02-01T08:00:00Z", cluster="")
        new = store.save(new_run)
        d = node_diff(store.scan(sid), store.scan(new), store.checks(sid), store.checks(new))
    assert d.benchmark_changed and (d.before.benchmark, d.after.benchmark) == ("cis-1.11", "cis-1.12")
    assert changes(d) == {  # 1.1.1 FAIL and 1.1.2 PASS in both
        "newly_failing": [("1.2.4", "", "FAIL")],
        "added": [("1.2.1", "", "WARN"), ("1.2.2", "", "WARN"), ("1.2.3", "", "INFO"), ("4.2.1", "", "PASS"),
                  ("4.2.2", "", "WARN")],
    }
    # a second open does nothing more
    with Store.open(store_url) as store, store.engine.connect() as conn:
        assert schema.current_version(conn) == 3


def test_migrations_are_one_transaction(store_url):
    """A migration that fails half-way leaves the store as it was (DDL rolled back too)."""
    engine = _engine(store_url)
    with engine.begin() as conn:
        schema.migrate(conn, target=1)
    v2 = schema.MIGRATIONS[1]
    broken = (*schema.MIGRATIONS[:1], lambda c: (v2(c), c.execute(sa.text("SELECT nonsense()"))))
    old = schema.MIGRATIONS
    schema.MIGRATIONS = broken  # type: ignore[assignment]
    try:
        with pytest.raises(sa.exc.SQLAlchemyError), engine.begin() as conn:
            schema.migrate(conn)
    finally:
        schema.MIGRATIONS = old
    engine.dispose()
    with Store.open(store_url) as store, store.engine.connect() as conn:  # the real migration still applies
        assert schema.current_version(conn) == 3
        assert "cluster" in {c["name"] for c in sa.inspect(conn).get_columns("scans")}


def test_reading_never_creates_a_store(store_url):
    if not store_url.startswith("postgresql"):
        with pytest.raises(StoreError, match=r"no such store \(`kubecis run --store` creates it\)$"):
            Store.open(store_url, create=False)
        engine = engine_for(store_url)
        with engine.connect():  # creates an empty SQLite file: a database without a store
            pass
        engine.dispose()
    with pytest.raises(StoreError, match=r"no kubecis store in this database \(`kubecis run --store` creates it\)$"):
        Store.open(store_url, create=False)
    engine = engine_for(store_url)
    with engine.connect() as conn:
        assert schema.current_version(conn) is None
    engine.dispose()


def test_a_store_from_a_newer_kubecis_is_refused(store_url):
    with Store.open(store_url) as store, store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE kubecis_schema SET version = 7"))
    with pytest.raises(StoreError, match=r"schema version 7, newer than this kubecis knows \(3\): upgrade kubecis"):
        Store.open(store_url)


def test_a_foreign_database_is_not_taken_over(store_url):
    engine = _engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE scans (x INTEGER)"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"has a 'scans' table but no kubecis_schema: not a kubecis store"):
        Store.open(store_url)


# ---- failures -------------------------------------------------------------------------------------------
def test_unreachable_postgresql_is_one_line():
    url = f"postgresql://kubecis:secret@127.0.0.1:{closed_port()}/x"
    with pytest.raises(StoreError) as e:
        Store.open(url)
    assert str(e.value) == (f"--store postgresql://kubecis:***@127.0.0.1:{url.split(':')[3].split('/')[0]}/x: "
                            f"cannot open the store: connection to server at \"127.0.0.1\", port "
                            f"{url.split(':')[3].split('/')[0]} failed: Connection refused")
    assert "secret" not in str(e.value)


def test_wrong_password_is_one_line(pg_url):
    bad = pg_url.replace("kubecis:kubecis@", "kubecis:wrong@")
    with pytest.raises(StoreError) as e:
        Store.open(bad)
    msg = str(e.value)
    assert "\n" not in msg and "wrong" not in msg
    assert msg.endswith('password authentication failed for user "kubecis"')


def test_missing_database_is_one_line(pg_url):
    with pytest.raises(StoreError, match=r'database "kubecis_nope" does not exist$'):
        Store.open(with_database(pg_url, "kubecis_nope"))


def test_sqlite_path_problems(tmp_path):
    with pytest.raises(StoreError, match=r"directory .*/nope does not exist$"):
        Store.open(str(tmp_path / "nope" / "h.db"))
    assert not (tmp_path / "nope").exists()
    with pytest.raises(StoreError, match=r": is a directory$"):
        Store.open(str(tmp_path))
    with pytest.raises(StoreError, match=r"h.db: no such store \(`kubecis run --store` creates it\)$"):
        Store.open(str(tmp_path / "h.db"), create=False)
    garbage = tmp_path / "garbage.db"
    garbage.write_text("this is not a database\n" * 100)
    with pytest.raises(StoreError, match=r"garbage.db: cannot open the store: file is not a database$"):
        Store.open(str(garbage))


def test_urls(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "kubecis" / "history.db"
    assert normalize_url("") == f"sqlite:///{tmp_path}/xdg/kubecis/history.db"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "kubecis" / "history.db"
    assert normalize_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgresql+psycopg2://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("sqlite:////abs/h.db") == "sqlite:////abs/h.db"
    assert display_url("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    with pytest.raises(UsageError, match=r"mysql://...: unsupported database"):
        normalize_url("mysql://u:p@h/db")


def test_default_store_directory_is_created(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with Store.open("") as store:
        store.save(run_at("2025-03-01T08:00:00Z"))
    path = tmp_path / "xdg" / "kubecis" / "history.db"
    assert path.is_file() and (path.parent.stat().st_mode & 0o777) == 0o700


def test_scan_dataclass_is_frozen():
    with Store.open("sqlite://") as store:
        s = store.scan(store.save(run_at("2025-03-01T08:00:00Z")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.node = "x"  # type: ignore[misc]

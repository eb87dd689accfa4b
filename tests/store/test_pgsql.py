"""`--pgsql` against a real PostgreSQL server, read back with plain SQL as kube-bench's users do: the
KUBE_BENCH_PGSQL_* environment, GORM's scan_results table, one row per controls object."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest

from kubecis.cli.main import main
from kubecis.errors import ConfigError
from kubecis.sinks.pgsql import rows, settings_from_env
from tests.report.sample import sample_run

psycopg = pytest.importorskip("psycopg")

# The table kube-bench's ORM (GORM AutoMigrate of its ScanResult model) creates.
GORM_COLUMNS = [
    ("id", "bigint", "NO"), ("created_at", "timestamp with time zone", "YES"),
    ("updated_at", "timestamp with time zone", "YES"), ("deleted_at", "timestamp with time zone", "YES"),
    ("scan_host", "character varying", "NO"), ("scan_time", "timestamp with time zone", "NO"),
    ("scan_info", "jsonb", "NO"),
]


@pytest.fixture
def pg_env(pg_url, monkeypatch):
    u = urlsplit(pg_url)
    env = {"KUBE_BENCH_PGSQL_HOST": u.hostname, "KUBE_BENCH_PGSQL_USER": u.username,
           "KUBE_BENCH_PGSQL_DBNAME": u.path.lstrip("/"), "KUBE_BENCH_PGSQL_SSLMODE": "disable",
           "KUBE_BENCH_PGSQL_PASSWORD": u.password}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("PGPORT", str(u.port))  # kube-bench has no port setting: libpq's own PGPORT
    monkeypatch.delenv("KUBE_BENCH_PGSQL_PORT", raising=False)
    monkeypatch.delenv("KUBE_BENCH_K8S_HOST", raising=False)
    return pg_url


def test_pgsql_rows_read_back_with_plain_sql(pg_env, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("KUBE_BENCH_K8S_HOST", "cp-1.example")
    before = dt.datetime.now(dt.UTC)
    assert main(["demo", "--json", "--outputfile", str(tmp_path / "r.json"), "--pgsql"]) == 0
    err = capsys.readouterr().err
    assert "5 rows inserted into scan_results" in err
    report = json.loads((tmp_path / "r.json").read_text())

    with psycopg.connect(pg_env) as conn:
        cols = conn.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                            "WHERE table_name = 'scan_results' ORDER BY ordinal_position").fetchall()
        assert cols == GORM_COLUMNS
        assert conn.execute("SELECT character_maximum_length FROM information_schema.columns WHERE "
                            "table_name = 'scan_results' AND column_name = 'scan_host'").fetchone() == (63,)
        assert conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_scan_results_deleted_at'"
                            ).fetchone() == ("CREATE INDEX idx_scan_results_deleted_at ON public.scan_results "
                                             "USING btree (deleted_at)",)
        got = conn.execute("SELECT id, scan_host, scan_time, created_at, deleted_at, scan_info "
                           "FROM scan_results ORDER BY id").fetchall()
        # one row per controls object, each the controls object of kube-bench's JSON, in report order
        assert [r[5] for r in got] == report["Controls"]
        assert {r[1] for r in got} == {"cp-1.example"}
        assert all(r[2] >= before - dt.timedelta(seconds=1) and r[3] is not None and r[4] is None for r in got)
        # the kind of query kube-bench's users run on it
        per_target = conn.execute(
            "SELECT scan_info->>'node_type', (scan_info->>'total_fail')::int FROM scan_results "
            "WHERE scan_host = %s AND deleted_at IS NULL ORDER BY id", ("cp-1.example",)).fetchall()
        assert per_target == [("master", 28), ("etcd", 3), ("controlplane", 2), ("node", 7), ("policies", 25)]
        failing = conn.execute(
            "SELECT r->>'test_number' FROM scan_results, jsonb_array_elements(scan_info->'tests') g, "
            "jsonb_array_elements(g->'results') r WHERE r->>'status' = 'FAIL' ORDER BY scan_results.id").fetchall()
        assert len(failing) == 65 and failing[0] == ("1.1.1",)

    # a second run adds its rows (kube-bench keeps every scan)
    assert main(["demo", "--json", "--outputfile", str(tmp_path / "r2.json"), "--pgsql"]) == 0
    with psycopg.connect(pg_env) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT scan_time) FROM scan_results").fetchone() == (10, 2)


def test_scan_host_defaults_to_the_node_name(pg_env, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("PGPORT")
    monkeypatch.setenv("KUBE_BENCH_PGSQL_PORT", str(urlsplit(pg_env).port))  # kubecis's own port setting
    assert main(["demo", "--json", "--outputfile", str(tmp_path / "r.json"), "--pgsql", "--node-name", "w-3"]) == 0
    with psycopg.connect(pg_env) as conn:
        assert conn.execute("SELECT DISTINCT scan_host FROM scan_results").fetchall() == [("w-3",)]


def test_missing_environment_is_kube_bench_s_error_before_running(pg_env, monkeypatch, capsys):
    monkeypatch.delenv("KUBE_BENCH_PGSQL_SSLMODE")
    assert main(["demo", "--pgsql"]) == 1
    out = capsys.readouterr()
    assert out.out == "" and out.err == "kubecis: error: --pgsql: KUBE_BENCH_PGSQL_SSLMODE env var is required\n"
    monkeypatch.setenv("KUBE_BENCH_PGSQL_SSLMODE", "disable")
    monkeypatch.setenv("KUBE_BENCH_K8S_HOST", "h" * 64)
    with pytest.raises(ConfigError, match=r"KUBE_BENCH_K8S_HOST value's length must be less than 63 chars"):
        settings_from_env()


def test_wrong_password_keeps_the_report(pg_env, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("KUBE_BENCH_PGSQL_PASSWORD", "wrong")
    out = tmp_path / "r.html"
    assert main(["demo", "--format", "html", "--outputfile", str(out), "--pgsql"]) == 1
    err = capsys.readouterr().err
    assert out.read_text().startswith("<!DOCTYPE html>")
    db = urlsplit(pg_env).path.lstrip("/")
    assert err == (f"kubecis: error: --pgsql (kubecis@127.0.0.1/{db}): connection to server at \"127.0.0.1\", port "
                   f"{urlsplit(pg_env).port} failed: password authentication failed for user \"kubecis\"\n")


def test_nul_characters_cannot_break_the_insert(pg_env):
    run = sample_run()
    run.controls[0].groups[0].checks[0].actual_value = "a\x00b"
    got = rows(run, "h", dt.datetime.now(dt.UTC))
    infos = "".join(r[4] for r in got)
    assert [r[2] for r in got] == ["h", "h"] and "\\u0000" not in infos and "a\ufffdb" in infos

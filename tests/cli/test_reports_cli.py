"""`run`/`demo` with --format, --waivers and the sinks; `history`, `diff` and `waivers check`.

Every sink's bad input (unreachable database, wrong password, read-only store path) is one line, a
non-zero exit, and the report is still written where it was asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubecis.cli.main import main
from tests.dbs import closed_port, server_url

KUBECIS = Path(sys.executable).parent / "kubecis"
WAIVERS = """\
waivers:
  - id: apiserver-perms
    checks: ["1.1.1"]
    reason: installer-managed file, reviewed
    owner: alice
    expires: 2099-01-31
  - id: old
    checks: ["4.2.*"]
    reason: old
    expires: 2020-01-01
  - id: nothing
    checks: ["9.9.9"]
    reason: none
    expires: 2099-01-01
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("kubecis: error:")]


# ---- formats --------------------------------------------------------------------------------------------
def test_format_json_and_text_are_the_kube_bench_outputs(capsys):
    assert run(capsys, "demo", "--format", "json")[1] == run(capsys, "demo", "--json")[1]
    text = run(capsys, "demo")[1]
    assert run(capsys, "demo", "--format", "text")[1] == text
    assert text.startswith("[INFO] 1 Control Plane Security Configuration\n")


# the example node through `run` (`demo --cluster` means the example fleet, not a cluster name)
EXAMPLE = ("run", "--snapshot", "example", "--executor", "native")


@pytest.mark.parametrize(("fmt", "start"), [("html", "<!DOCTYPE html>"), ("sarif", "{\n  \"$schema\""),
                                             ("csv", "cluster,node,benchmark")])
def test_our_formats_to_a_file(capsys, tmp_path, fmt, start):
    out = tmp_path / f"report.{fmt}"
    rc, stdout, err = run(capsys, *EXAMPLE, "--format", fmt, "--outputfile", str(out), "--node-name", "cp-9",
                          "--cluster", "lab")
    assert (rc, stdout, err) == (0, "", "")
    text = out.read_text()
    assert text.startswith(start) and "cp-9" in text and "lab" in text


def test_format_conflicts_and_unknown_format(capsys):
    rc, out, err = run(capsys, "run", "--json", "--format", "csv")
    assert (rc, out) == (2, "") and err == "kubecis: error: --json and --format csv cannot be used together\n"
    rc, _, err = run(capsys, "run", "--format", "yaml")
    assert rc == 2 and "argument --format: invalid choice: 'yaml'" in err



# ---- waivers --------------------------------------------------------------------------------------------
def test_waivers_in_kube_bench_json_and_on_stderr(capsys, tmp_path):
    w = tmp_path / "waivers.yaml"
    w.write_text(WAIVERS)
    rc, out, err = run(capsys, "demo", "--json", "--waivers", str(w))
    assert rc == 0
    doc = json.loads(out)
    c = next(r for g in doc["Controls"][0]["tests"] for r in g["results"] if r["test_number"] == "1.1.1")
    assert (c["status"], c["reason"]) == (
        "INFO", "waived (apiserver-perms, owner alice, until 2099-01-31; was FAIL): installer-managed file, reviewed")
    assert doc["Totals"] == {"total_pass": 41, "total_fail": 64, "total_warn": 25, "total_info": 1}
    assert err.splitlines()[0] == "kubecis: waivers: 1 check waived by 1 of 3 waivers"
    assert err.splitlines()[1].startswith(
        "kubecis: waiver old expired on 2020-01-01, not applied (would have waived 4.2.1,")
    assert err.splitlines()[2] == "kubecis: waiver nothing is unused: it waived nothing in this run"


def test_waived_fail_no_longer_sets_the_exit_code(capsys, tmp_path):
    w = tmp_path / "w.yaml"
    w.write_text("waivers:\n  - {id: all, checks: ['*'], reason: lab node, expires: 2099-01-01}\n")
    example = ("run", "--snapshot", "example", "--executor", "native", "--exit-code", "9", "--format", "csv")
    rc, out, _ = run(capsys, *example)
    assert rc == 9 and out.count(",FAIL,") == 65
    rc, out, _ = run(capsys, *example, "--waivers", str(w))
    assert rc == 0 and ",FAIL," not in out and out.count(",WAIVED,") == 90


def test_bad_waivers_file_fails_before_running(capsys, tmp_path):
    w = tmp_path / "w.yaml"
    w.write_text("waivers:\n  - checks: [1.1.1]\n    reason: r\n")
    rc, out, err = run(capsys, "demo", "--waivers", str(w))
    assert (rc, out) == (1, "")
    assert err == f"kubecis: error: {w}:2: missing 'expires'\n"


def test_waivers_check_command(capsys, tmp_path):
    w = tmp_path / "w.yaml"
    w.write_text(WAIVERS)
    rc, out, _ = run(capsys, "waivers", "check", str(w), "--date", "2030-01-01")
    assert rc == 0
    assert out == (f"{w}: 3 waivers, 1 expired\n"
                   "  apiserver-perms: active until 2099-01-31: checks 1.1.1\n"
                   "  old: expired on 2020-01-01: checks 4.2.*\n"
                   "  nothing: active until 2099-01-01: checks 9.9.9\n")
    w.write_text("waivers:\n  - checks: ['1']\n    reason: r\n    expires: tomorrow\n    nodes: worker\n")
    rc, out, err = run(capsys, "waivers", "check", str(w))
    assert (rc, out) == (1, "")
    assert err == (f"kubecis: error: {w}:4: 'expires' must be a date YYYY-MM-DD, not 'tomorrow'\n"
                   f"  {w}:5: 'nodes' must be a non-empty list of strings, e.g. nodes: [\"...\"]\n")
    rc, _, err = run(capsys, "waivers", "check", str(tmp_path / "missing.yaml"))
    assert rc == 1 and err == f"kubecis: error: {tmp_path / 'missing.yaml'}: No such file or directory\n"


# ---- history and diff -----------------------------------------------------------------------------------
def test_store_history_and_diff(capsys, tmp_path, store_url):
    w = tmp_path / "w.yaml"
    w.write_text(WAIVERS)
    rc, _, err = run(capsys, *EXAMPLE, "--store", store_url, "--node-name", "cp-1", "--cluster", "lab",
                     "--outputfile", str(tmp_path / "r1.txt"))
    assert rc == 0 and err.startswith("kubecis: stored as scan 1 in ")
    rc, _, err = run(capsys, *EXAMPLE, "--store", store_url, "--node-name", "cp-1", "--cluster", "lab",
                     "--waivers", str(w), "--outputfile", str(tmp_path / "r2.txt"))
    assert rc == 0 and "stored as scan 2" in err
    rc, out, _ = run(capsys, "history", "--store", store_url)
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "TIME", "CLUSTER", "NODE", "BENCHMARK", "PASS", "FAIL", "WARN", "INFO", "WAIVED"]
    assert [line.split()[0::1][:1] + line.split()[2:] for line in lines[1:]] == [
        ["2", "lab", "cp-1", "cis-1.12", "41", "64", "25", "0", "1"],
        ["1", "lab", "cp-1", "cis-1.12", "41", "65", "25", "0", "0"],
    ]
    rc, out, _ = run(capsys, "history", "--store", store_url, "--json", "--node", "nope")
    assert json.loads(out) == {"scans": []}

    rc, out, _ = run(capsys, "diff", "--store", store_url)
    assert rc == 0
    body = out.splitlines()
    assert body[0] == "== node cp-1 (cluster lab) =="
    assert body[3:] == ["newly waived (1):",
                        "  1.1.1 FAIL -> WAIVED  Ensure that the API server pod specification file permissions are "
                        "set to 600 or more restrictive (Automated)"]
    rc, out, _ = run(capsys, "diff", "--store", store_url, "2", "1", "--format", "json")
    [d] = json.loads(out)["nodes"]
    assert (d["from"]["id"], d["to"]["id"], d["benchmark_changed"]) == (2, 1, False)
    assert [(c["check"], c["before"], c["after"]) for c in d["newly_failing"]] == [("1.1.1", "WAIVED", "FAIL")]
    assert all(d[k] == [] for k in ("fixed", "newly_not_evaluated", "newly_waived", "changed", "added", "removed"))
    html = tmp_path / "diff.html"
    rc, out, _ = run(capsys, "diff", "--store", store_url, "1", "2", "--format", "html", "--outputfile", str(html),
                     "--exit-code", "4")
    assert (rc, out) == (0, "")  # nothing newly failing from 1 to 2
    assert 'data-category="newly_waived"' in html.read_text() and "<script" not in html.read_text()
    assert run(capsys, "diff", "--store", store_url, "2", "1", "--exit-code", "4")[0] == 4
    # the benchmark changed between two scans of the same node
    rc, _, _ = run(capsys, "run", "--snapshot", "example", "--executor", "native", "--benchmark", "cis-1.11",
                   "--store", store_url, "--node-name", "cp-1", "--cluster", "lab", "--outputfile",
                   str(tmp_path / "r3.txt"))
    assert rc == 0
    rc, out, _ = run(capsys, "diff", "--store", store_url, "--format", "json")
    [d] = json.loads(out)["nodes"]
    assert (d["from"]["id"], d["to"]["id"], d["benchmark_changed"]) == (2, 3, True)
    assert (d["from"]["benchmark"], d["to"]["benchmark"]) == ("cis-1.12", "cis-1.11")


def test_history_and_diff_errors(capsys, tmp_path):
    missing = tmp_path / "none.db"
    rc, out, err = run(capsys, "history", "--store", str(missing))
    assert (rc, out) == (1, "")
    assert err == f"kubecis: error: --store {missing}: no such store (`kubecis run --store` creates it)\n"
    db = tmp_path / "h.db"
    assert run(capsys, "demo", "--store", str(db), "--outputfile", str(tmp_path / "r"))[0] == 0
    rc, _, err = run(capsys, "diff", "--store", str(db))
    assert rc == 1 and err.endswith("has only one scan (1); nothing to compare\n")
    rc, _, err = run(capsys, "diff", "--store", str(db), "1")
    assert rc == 2 and "give two scan ids" in err
    rc, _, err = run(capsys, "diff", "--store", str(db), "1", "7")
    assert rc == 1 and err == f"kubecis: error: --store {db}: no scan 7 (see `kubecis history`)\n"


# ---- a failing sink loses no result ---------------------------------------------------------------------
def _check_kept(capsys, tmp_path: Path, *sink: str) -> str:
    out = tmp_path / "report.json"
    rc, stdout, err = run(capsys, "demo", "--json", "--outputfile", str(out), *sink)
    assert rc == 1, err
    assert json.loads(out.read_text())["Totals"]["total_fail"] == 65  # the report is complete
    [line] = error_lines(err)
    assert "Traceback" not in err and stdout == ""
    return line


def test_unreachable_store(capsys, tmp_path):
    port = closed_port()
    line = _check_kept(capsys, tmp_path, "--store", f"postgresql://kubecis:pw@127.0.0.1:{port}/db")
    assert line == (f"kubecis: error: --store postgresql://kubecis:***@127.0.0.1:{port}/db: cannot open the store: "
                    f"connection to server at \"127.0.0.1\", port {port} failed: Connection refused")


def test_store_wrong_password(capsys, tmp_path, pg_url):
    line = _check_kept(capsys, tmp_path, "--store", pg_url.replace(":kubecis@", ":wrong@"))
    assert line.endswith('cannot open the store: connection to server at "127.0.0.1", port '
                         f'{pg_url.rsplit(":", 1)[1].split("/")[0]} failed: password authentication failed for user '
                         '"kubecis"')


def test_all_sinks_are_tried_and_each_failure_is_reported(capsys, tmp_path, monkeypatch):
    for k, v in {"HOST": "127.0.0.1", "USER": "u", "DBNAME": "d", "SSLMODE": "disable", "PASSWORD": "p",
                 "PORT": str(closed_port())}.items():
        monkeypatch.setenv(f"KUBE_BENCH_PGSQL_{k}", v)
    out = tmp_path / "report.json"
    rc, _, err = run(capsys, "demo", "--json", "--outputfile", str(out), "--pgsql", "--store",
                     str(tmp_path / "missing-dir" / "h.db"))
    assert rc == 1 and out.is_file()
    assert err.splitlines() == [
        f"kubecis: error: --store {tmp_path / 'missing-dir' / 'h.db'}: directory {tmp_path / 'missing-dir'} "
        "does not exist",
        f"  --pgsql (u@127.0.0.1/d): connection to server at \"127.0.0.1\", port "
        f"{os.environ['KUBE_BENCH_PGSQL_PORT']} failed: Connection refused",
    ]


def _readonly_prefix(directory: Path) -> list[str]:
    """A command prefix under which ``directory`` is read-only, even for root (a read-only bind mount in a
    private mount namespace); for other users chmod does it."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return []
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -m is not available here")
    d = str(directory)
    return ["unshare", "-m", "sh", "-c", f'mount --bind "{d}" "{d}" && mount -o remount,bind,ro "{d}" && exec "$@"',
            "sh"]


def test_read_only_store_path(tmp_path):
    if not KUBECIS.exists():
        pytest.skip(f"kubecis console script not found next to {sys.executable}")
    ro = tmp_path / "ro"
    ro.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    # an existing store that can be read but not written: history works, a run keeps its report
    db = ro / "h.db"
    assert subprocess.run([str(KUBECIS), "demo", "--store", str(db), "--outputfile", str(out / "r0")],
                          capture_output=True).returncode == 0
    prefix = _readonly_prefix(ro)
    res = subprocess.run([*prefix, str(KUBECIS), "demo", "--format", "csv", "--outputfile", str(out / "r.csv"),
                          "--store", str(db)], capture_output=True, text=True)
    assert res.returncode == 1, res.stderr
    assert res.stderr == (f"kubecis: error: --store {db}: cannot save the scan: attempt to write a readonly "
                          "database\n")
    assert (out / "r.csv").read_bytes().count(b"\r\n") == 132
    res = subprocess.run([*prefix, str(KUBECIS), "history", "--store", str(db)], capture_output=True, text=True)
    assert res.returncode == 0 and len(res.stdout.splitlines()) == 2, res.stderr
    # a new store in a read-only directory
    res = subprocess.run([*prefix, str(KUBECIS), "demo", "--outputfile", str(out / "r.txt"), "--store",
                          str(ro / "new.db")], capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stderr == f"kubecis: error: --store {ro / 'new.db'}: cannot create the store: {ro} is not writable\n"
    assert (out / "r.txt").read_text().startswith("[INFO] 1 ")


# ---- start-up: a plain run loads none of it -------------------------------------------------------------
def test_plain_run_imports_no_database_template_or_aws_library():
    code = ("import sys, io, contextlib\n"
            "from kubecis.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['demo']) == 0\n"
            "    assert main(['demo', '--json']) == 0\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'jinja2', 'psycopg', 'boto3', 'botocore', 'kubecis'))\n"
            "print(' '.join(m for m in heavy if not m.startswith('kubecis') or m.startswith(('kubecis.store', "
            "'kubecis.sinks', 'kubecis.report.html', 'kubecis.report.sarif', 'kubecis.report.csv', "
            "'kubecis.report.asff', 'kubecis.results.waivers'))))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout == "\n"
    code_html = code.replace("main(['demo', '--json'])", "main(['demo', '--format', 'html'])")
    res = subprocess.run([sys.executable, "-c", code_html], capture_output=True, text=True, check=True)
    assert "jinja2" in res.stdout.split() and "sqlalchemy" not in res.stdout


def test_pg_server_is_the_real_one():
    """The PostgreSQL the tests use is a real server (not a stand-in)."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(server_url()) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
    assert version is not None and int(version[0]) >= 120000

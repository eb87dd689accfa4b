"""Loading a snapshot is loading untrusted data: bounded, type-checked, one clear line for every bad file."""

from __future__ import annotations

import base64
import contextlib
import copy
import gzip
import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecis.audit.native import NativeExecutor
from kubecis.errors import HostError
from kubecis.host import snapshot as snapshot_mod
from kubecis.host.base import NotInSnapshot, Process
from kubecis.host.cluster import ClusterUnreachable, SnapshotCluster
from kubecis.host.journal import JournalQuery, JournalResult, JournalUnsupported
from kubecis.host.snapshot import RecordingHost, SnapshotHost
from tests.fakes import FakeHost

# a valid document with one entry of every kind (and an error, a journal refusal, API answers)
GOOD: dict[str, Any] = {"format": "kubecis-snapshot", "version": 1, "host": "node-1", "entries": [
    ['["processes"]', {"ok": [[1, 0, 0, "systemd", ["/sbin/init"], "?", "Jan01", "00:00:01", 0],
                              [7, 1, 0, "kubelet", ["kubelet", "--anonymous-auth=false"], "?", "10:00", "00:00:09",
                               1]]}],
    ['["environ", 7]', {"ok": base64.b64encode(b"A=1\0").decode()}],
    ['["stat", "/etc/kubernetes/admin.conf", true]', {"ok": [33152, 0, 0, 5641, 1, 1.5, 9, 2049, 16, 1.5, 1.5]}],
    ['["stat", "/nope", true]', {"error": "FileNotFoundError", "errno": 2}],
    ['["read", "/etc/kubernetes/admin.conf"]', {"ok": base64.b64encode(b"apiVersion: v1\n").decode()}],
    ['["read", "/etc/shadow"]', {"error": "PermissionError", "errno": 13}],
    ['["read", "/proc/sys/kernel/pid_max"]', {"ok": base64.b64encode(b"4194304\n").decode()}],
    ['["listdir", "/etc/kubernetes"]', {"ok": ["admin.conf", "pki"]}],
    ['["readlink", "/etc/l"]', {"ok": "/etc/kubernetes"}],
    ['["user", 0]', {"ok": "root"}],
    ['["group", 5]', {"ok": None}],
    ['["getenv", "HOSTNAME"]', {"ok": "node-1"}],
    ['["journal", null, true, ["k3s.service"]]', {"ok": {"files": 1, "messages": [], "entries": [
        [[["MESSAGE", base64.b64encode(b"hello").decode()]], 1700000000000000, 5, "b" * 32, 1, "s" * 32, 3]]}}],
    ['["journal", "/x", true, []]', {"unsupported": "journalctl: not here"}],
    ['["api", "namespace"]', {"ok": "default"}],
    ['["api", "GET", "/api/v1/pods", [], false]', {"status": 200, "body": base64.b64encode(b"{}").decode()}],
    ['["api", "GET", "/api", [], false]', {"refused": "localhost:8080", "url": "http://localhost:8080"}],
]}


def _write(tmp_path: Path, doc: object, name: str = "s.snap") -> Path:
    p = tmp_path / name
    p.write_bytes(gzip.compress(json.dumps(doc).encode()))
    return p


def _error(tmp_path: Path, doc: object) -> str:
    with pytest.raises(HostError) as ei:
        SnapshotHost.load(str(_write(tmp_path, doc)))
    msg = str(ei.value)
    assert "\n" not in msg and msg.isprintable(), msg
    return msg


def test_every_entry_kind_loads_and_replays(tmp_path: Path) -> None:
    host = SnapshotHost.load(str(_write(tmp_path, GOOD)))
    assert host.name == "node-1"
    assert [p.comm for p in host.processes()] == ["systemd", "kubelet"]
    assert host.processes()[1].cmdline == ("kubelet", "--anonymous-auth=false")
    assert host.environ(7) == b"A=1\0"
    assert host.stat("/etc/kubernetes/admin.conf").size == 5641
    with pytest.raises(FileNotFoundError):
        host.stat("/nope")
    with pytest.raises(PermissionError):
        host.read("/etc/shadow")
    assert host.read("/etc/kubernetes/admin.conf") == b"apiVersion: v1\n"
    assert host.listdir("/etc/kubernetes") == ["admin.conf", "pki"]
    assert host.readlink("/etc/l") == "/etc/kubernetes"
    assert host.user_name(0) == "root" and host.group_name(5) is None and host.getenv("HOSTNAME") == "node-1"
    res = host.journal(JournalQuery(units=("k3s.service",)))
    assert res.entries[0].get("MESSAGE") == b"hello"
    with pytest.raises(JournalUnsupported):
        host.journal(JournalQuery(directory="/x"))
    with pytest.raises(NotInSnapshot):
        host.read("/never")
    api = SnapshotCluster.from_host(host)
    assert api.namespace == "default" and api.get("/api/v1/pods") == (200, b"{}")
    with pytest.raises(ClusterUnreachable):
        api.get("/api")
    assert NativeExecutor(host).run("ps -ef | grep -c kubelet").output == "1\n"


def _entry(key: str) -> int:
    return next(n for n, (k, _) in enumerate(GOOD["entries"]) if k == key)


# (what to change, expected words in the one-line message)
CORRUPT: list[tuple[str, Any, str]] = [
    ('["processes"]', {"ok": "ps"}, "process list is not a list"),
    ('["processes"]', {"ok": [[1, 0, 0, "x", "not-a-list", "?", "", "", 0]]}, "wrong type"),
    ('["processes"]', {"ok": [["1", 0, 0, "x", [], "?", "", "", 0]]}, "wrong type"),
    ('["processes"]', {"ok": [[1, 0, 0, "x", [1, 2], "?", "", "", 0]]}, "wrong type"),
    ('["processes"]', {"ok": [[1, 0]]}, "9-element"),
    ('["processes"]', {"ok": [[True, 0, 0, "x", [], "?", "", "", 0]]}, "wrong type"),
    ('["processes"]', {"ok": [[10**30, 0, 0, "x", [], "?", "", "", 0]]}, "wrong type"),
    ('["stat", "/etc/kubernetes/admin.conf", true]', {"ok": ["33152", 0, 0, 1]}, "stat has a field"),
    ('["stat", "/etc/kubernetes/admin.conf", true]', {"ok": {"mode": 1}}, "stat is not a list"),
    ('["stat", "/etc/kubernetes/admin.conf", true]', {"ok": [1, 0, 0, 1, 1, float("nan")]}, "stat has a field"),
    ('["stat", "/etc/kubernetes/admin.conf", true]', {"ok": [1, 0, 0, 1, 1, 1e300]}, "stat has a field"),
    ('["stat", "/etc/kubernetes/admin.conf", true]', {"ok": [1, 0, 0, 1] + [0] * 20}, "stat is not a list"),
    ('["read", "/etc/kubernetes/admin.conf"]', {"ok": 5}, "not a base64 string"),
    ('["read", "/etc/kubernetes/admin.conf"]', {"ok": "***"}, "not valid base64"),
    ('["read", "/etc/kubernetes/admin.conf"]', {"ok": ["a"]}, "not a base64 string"),
    ('["listdir", "/etc/kubernetes"]', {"ok": "admin.conf"}, "listing"),
    ('["listdir", "/etc/kubernetes"]', {"ok": [1, 2]}, "listing"),
    ('["readlink", "/etc/l"]', {"ok": 7}, "link target"),
    ('["user", 0]', {"ok": 0}, "neither a string nor null"),
    ('["getenv", "HOSTNAME"]', {"ok": ["x"]}, "neither a string nor null"),
    ('["environ", 7]', {"ok": None}, "not a base64 string"),
    ('["stat", "/nope", true]', {"error": "FileNotFoundError", "errno": "2"}, "errno"),
    ('["stat", "/nope", true]', {"error": "FileNotFoundError", "errno": True}, "errno"),
    ('["stat", "/nope", true]', {"error": "FileNotFoundError", "errno": 10**40}, "errno"),
    ('["stat", "/nope", true]', {"error": "FileNotFoundError", "errno": -1}, "errno"),
    ('["stat", "/nope", true]', {"error": "SystemExit", "errno": 2}, "error kind"),
    ('["stat", "/nope", true]', {"error": ["FileNotFoundError"], "errno": 2}, "error kind"),
    ('["stat", "/nope", true]', {}, "neither ok nor error"),
    ('["stat", "/nope", true]', [1], "answer is not an object"),
    ('["journal", null, true, ["k3s.service"]]', {"ok": {"entries": [[1, 2]]}}, "journal entry"),
    ('["journal", null, true, ["k3s.service"]]', {"ok": {"entries": "x"}}, "journal entries"),
    ('["journal", null, true, ["k3s.service"]]', {"ok": {"entries": [[[["MESSAGE", "%%"]], 1, 1, "b", 1, "s", 1]]}},
     "base64"),
    ('["journal", null, true, ["k3s.service"]]', {"ok": {"files": "1"}}, "journal files"),
    ('["journal", null, true, ["k3s.service"]]', {"ok": []}, "journal result"),
    ('["journal", "/x", true, []]', {"unsupported": 5}, "reason"),
    ('["api", "GET", "/api/v1/pods", [], false]', {"status": "200", "body": ""}, "HTTP status"),
    ('["api", "GET", "/api/v1/pods", [], false]', {"status": 200, "body": "%%%"}, "API body"),
    ('["api", "GET", "/api/v1/pods", [], false]', {"status": 200, "body": None}, "API body"),
    ('["api", "namespace"]', {"ok": 3}, "namespace"),
    ('["api", "GET", "/api", [], false]', {"refused": 1}, "refusal"),
]


@pytest.mark.parametrize(("key", "answer", "words"), CORRUPT)
def test_type_corrupt_entries_are_one_line_naming_the_entry(tmp_path: Path, key: str, answer: Any,
                                                            words: str) -> None:
    doc = copy.deepcopy(GOOD)
    n = _entry(key)
    doc["entries"][n][1] = answer
    msg = _error(tmp_path, doc)
    assert f"corrupt snapshot entry {n} " in msg and words in msg, msg


@pytest.mark.parametrize(("entry", "words"), [
    ("not a pair", "not a [query, answer] pair"),
    (["k"], "not a [query, answer] pair"),
    ([1, {"ok": 1}], "not a [query, answer] pair"),
    (["not json", {"ok": 1}], "query is not JSON"),
    (['{"a": 1}', {"ok": 1}], "query is not [op, ...]"),
    (['["rm", "/"]', {"ok": 1}], "unknown query"),
    (['["read", 5]', {"ok": ""}], "query arguments"),
    (['["stat", "/x", "yes"]', {"ok": [1, 0, 0, 0]}], "query arguments"),
    (['["environ", "7"]', {"ok": ""}], "query arguments"),
    (['["journal", null, 1, []]', {"ok": {}}], "query arguments"),
    (['["api", "DELETE", "/x"]', {"status": 200, "body": ""}], "unknown API request"),
    (['["read", "/x\\u001b[31m"]', {"ok": 5}], "\\u001b"),
])
def test_malformed_entries(tmp_path: Path, entry: Any, words: str) -> None:
    doc = copy.deepcopy(GOOD)
    doc["entries"].append(entry)
    msg = _error(tmp_path, doc)
    assert words in msg and f"entry {len(GOOD['entries'])}" in msg, msg


@pytest.mark.parametrize(("change", "words"), [
    ({"version": True}, "no valid format version"),
    ({"version": "1"}, "no valid format version"),
    ({"version": 1.0}, "no valid format version"),
    ({"version": 0}, "no valid format version"),
    ({"version": -3}, "no valid format version"),
    ({"version": None}, "no valid format version"),
    ({"version": 2}, "newer than supported"),
    ({"version": 10**400}, "newer than supported"),
    ({"host": 5}, "host is not a string"),
    ({"entries": {}}, "bad entries"),
    ({"entries": None}, "bad entries"),
    ({"format": "other"}, "not a kubecis snapshot"),
])
def test_bad_headers(tmp_path: Path, change: dict[str, Any], words: str) -> None:
    msg = _error(tmp_path, {**GOOD, **change})
    assert words in msg and len(msg) < 300, msg


def test_not_json_and_not_an_object(tmp_path: Path) -> None:
    for doc in ([1, 2], "x", None, 5):
        assert "not a kubecis snapshot" in _error(tmp_path, doc)
    p = tmp_path / "deep.snap"
    p.write_bytes(gzip.compress(b'{"format":"kubecis-snapshot","version":1,"entries":' + b"[" * 200_000))
    with pytest.raises(HostError, match="nested too deeply|invalid JSON"):
        SnapshotHost.load(str(p))
    p.write_bytes(gzip.compress(b"[" * 200_000 + b"]" * 200_000))
    with pytest.raises(HostError, match="nested too deeply"):
        SnapshotHost.load(str(p))


def _bomb(path: Path, megabytes: int) -> None:
    """``megabytes`` MiB of zeros, gzip-compressed as they stream (~1 KiB per MiB on disk)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    with path.open("wb") as f:
        for _ in range(megabytes):
            f.write(comp.compress(zeros))
        f.write(comp.flush())


def test_gzip_bomb_is_refused_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.snap"
    _bomb(bomb, 1024)  # 1 GiB of zeros in ~1 MiB
    assert bomb.stat().st_size < 2 << 20
    monkeypatch.setenv("KUBECIS_SNAPSHOT_MAX_MB", "16")
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(HostError, match=r"larger than 16 MiB uncompressed \(KUBECIS_SNAPSHOT_MAX_MB"):
            SnapshotHost.load(str(bomb))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20, peak  # the limit plus one chunk, not the gigabyte
    assert time.monotonic() - t0 < 30
    monkeypatch.setenv("KUBECIS_SNAPSHOT_MAX_MB", "lots")
    with pytest.raises(HostError, match="KUBECIS_SNAPSHOT_MAX_MB=lots"):
        SnapshotHost.load(str(bomb))


def test_default_limit_bounds_memory(tmp_path: Path) -> None:
    """With the default limit (256 MiB) the 1 GiB bomb stops at the limit: measured in a fresh process."""
    bomb = tmp_path / "bomb.snap"
    _bomb(bomb, 1024)
    code = ("import resource, sys\nfrom kubecis.host.snapshot import SnapshotHost\nfrom kubecis.errors import "
            "HostError\ntry:\n    SnapshotHost.load(sys.argv[1])\nexcept HostError as e:\n    print(e)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    env = {k: v for k, v in os.environ.items() if k != "KUBECIS_SNAPSHOT_MAX_MB"}
    cp = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, env=env,
                        timeout=120, check=True)
    msg, rss_kib = cp.stdout.splitlines()
    assert "larger than 256 MiB uncompressed" in msg
    assert int(rss_kib) < 400 * 1024, rss_kib  # ~256 MiB held at the refusal, never the gigabyte


def test_element_count_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_mod, "MAX_ELEMENTS", 1000)
    doc = {**GOOD, "entries": [['["user", 1]', {"ok": None}]] * 600}
    assert "more than 1000 JSON elements" in _error(tmp_path, doc)


def _finishes(fn: Any, seconds: float = 20.0) -> BaseException | None:
    out: list[BaseException | None] = [None]

    def target() -> None:
        try:
            fn()
        except BaseException as exc:
            out[0] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "loading did not return (blocked on a FIFO?)"
    return out[0]


def test_non_regular_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.snap"
    os.mkfifo(fifo)
    exc = _finishes(lambda: SnapshotHost.load(str(fifo)))
    assert isinstance(exc, HostError) and str(exc) == f"{fifo}: is a FIFO, expected a snapshot file"
    exc = _finishes(lambda: SnapshotHost.load("/dev/null"))
    assert isinstance(exc, HostError) and "is a character device" in str(exc)
    exc = _finishes(lambda: SnapshotHost.load(str(tmp_path)))
    assert isinstance(exc, HostError) and "is a directory" in str(exc)
    weird = tmp_path / "new\nline\x1b[2J.snap"
    exc = _finishes(lambda: SnapshotHost.load(str(weird)))
    assert isinstance(exc, HostError) and "\n" not in str(exc) and "\x1b" not in str(exc)


def test_cli_bad_snapshot_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kubecis.cli.main import main

    fifo = tmp_path / "fifo.snap"
    os.mkfifo(fifo)
    bad = copy.deepcopy(GOOD)
    bad["entries"][0][1] = {"ok": [[1, 0, 0, "x", "argv", "?", "", "", 0]]}
    cases = {"fifo": fifo, "corrupt": _write(tmp_path, bad), "version": _write(tmp_path, {**GOOD, "version": True},
                                                                                 "v.snap")}
    for name, path in cases.items():
        rc = main(["run", "--snapshot", str(path), "--benchmark", "cis-1.12"])
        err = capsys.readouterr()
        assert rc == 1, name
        lines = err.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kubecis: error: "), (name, err.err)
        assert err.out == ""
    # and once through a real process: a FIFO nobody writes to must not hang the command
    kubecis = Path(sys.executable).parent / "kubecis"
    cp = subprocess.run([str(kubecis), "run", "--snapshot", str(fifo)], capture_output=True, text=True,
                        timeout=60, check=False)
    assert cp.returncode == 1 and cp.stdout == ""
    assert cp.stderr == f"kubecis: error: {fifo}: is a FIFO, expected a snapshot file\n"


# ------------------------------------------------------------------------------------------------- fuzzing

_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


def _exercise(host: SnapshotHost) -> None:
    """Every recorded answer through the host interface and a few native audits: nothing but the host's
    own exceptions may come out."""
    expected = (OSError, NotInSnapshot, JournalUnsupported)
    for key in list(host._answers):
        op, *args = json.loads(key)
        fn = {"processes": lambda: host.processes(), "environ": lambda: host.environ(*args),
              "stat": lambda: host.stat(*args), "read": lambda: host.read(*args),
              "listdir": lambda: host.listdir(*args), "readlink": lambda: host.readlink(*args),
              "user": lambda: host.user_name(*args), "group": lambda: host.group_name(*args),
              "getenv": lambda: host.getenv(*args),
              "journal": lambda: host.journal(JournalQuery(args[0], args[1], tuple(args[2])))}[op]
        with contextlib.suppress(expected):
            fn()
    ex = NativeExecutor(host, cluster=SnapshotCluster.from_host(host))
    for script in ("ps -ef", "stat -c '%a %U:%G %s %h %n' /etc/kubernetes/admin.conf /nope",
                   "cat /etc/kubernetes/admin.conf", "journalctl -u k3s", "kubectl get pods -A"):
        ex.run(script)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_entries(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    doc = copy.deepcopy(GOOD)
    for _ in range(data.draw(st.integers(1, 3))):
        n = data.draw(st.integers(0, len(doc["entries"]) - 1))
        where = data.draw(st.sampled_from(["answer", "ok", "key", "row", "entry"]))
        value = data.draw(_json)
        entry = doc["entries"][n]
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            doc["entries"][n] = value
            continue
        answer = entry[1]
        if where == "answer":
            entry[1] = value
        elif where == "ok" and isinstance(answer, dict):
            answer[data.draw(st.sampled_from(["ok", "error", "errno", "status", "body", "unsupported"]))] = value
        elif where == "key":
            op = entry[0][2:entry[0].find('"', 2)] if entry[0].startswith('["') else "read"
            entry[0] = json.dumps([op, value])
        elif where == "row" and isinstance(answer, dict) and isinstance(answer.get("ok"), list) and answer["ok"]:
            row = answer["ok"][0]
            if isinstance(row, list) and row:
                row[data.draw(st.integers(0, len(row) - 1))] = value
        else:
            doc["entries"][n] = value
    if data.draw(st.booleans()):
        doc[data.draw(st.sampled_from(["version", "host", "format", "entries"]))] = data.draw(_json)
    path = tmp_path_factory.mktemp("fuzz") / "s.snap"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    try:
        host = SnapshotHost.load(str(path))
    except HostError as exc:
        assert "\n" not in str(exc)
        return
    _exercise(host)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=300),
    st.integers(1, 400).map(lambda n: gzip.compress(json.dumps(GOOD).encode())[:n]),
    st.binary(max_size=200).map(gzip.compress),
    _json.map(lambda v: gzip.compress(json.dumps(v).encode())),
))
def test_fuzz_bytes(tmp_path_factory: pytest.TempPathFactory, blob: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "s.snap"
    path.write_bytes(blob)
    try:
        host = SnapshotHost.load(str(path))
    except HostError as exc:
        assert "\n" not in str(exc)
        return
    _exercise(host)


def test_recorded_snapshot_round_trips(tmp_path: Path) -> None:
    """What RecordingHost writes passes the loader's checks (every kind of answer, redacted or not)."""
    fake = FakeHost(files={"/etc/a.conf": b"token: x\n"}, dirs={"/etc"})
    fake.procs.append(Process(5, 1, 0, "kubelet", ("kubelet", "--token=abc")))
    rec = RecordingHost(fake)
    ex = NativeExecutor(rec)
    for s in ("ps -ef", "cat /etc/a.conf /nope", "stat -c %a /etc/a.conf"):
        ex.run(s)
    rec.entries['["journal", null, true, []]'] = {"ok": {"files": 0, "messages": [], "entries": []}}
    p = tmp_path / "r.snap"
    rec.save(str(p))
    host = SnapshotHost.load(str(p))
    assert host.read("/etc/a.conf") == b"token: REDACTED-BY-KUBECIS\n"
    assert host.processes()[0].cmdline == ("kubelet", "--token=REDACTED-BY-KUBECIS")
    assert host.journal(JournalQuery()) == JournalResult(0, (), ())

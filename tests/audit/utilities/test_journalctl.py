"""journalctl, natively: the pure-Python journal reader and the utility, against the real journalctl.

Journal files are written by ``systemd-journal-remote`` (Debian package ``systemd-journal-remote``)
from export format; the reference output is systemd's own ``journalctl`` on the same files (same
TZ). The hermetic test puts the files where a k3s node has them and runs every distinct
``journalctl`` audit of the k3s sets through ``/bin/sh`` and ``NativeExecutor(LiveHost())`` in the
same private node. The compression tests use the ``zstd``/``lz4`` command-line tools when present.
"""

from __future__ import annotations

import json
import lzma
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kubecis.audit.native import NativeExecutor, unsupported_reason
from kubecis.audit.native.corpus import distinct, load_corpus
from kubecis.host.journal import JournalQuery, JournalUnsupported, _decompress, read_journal
from kubecis.host.rooted import RootedHost
from kubecis.host.snapshot import RecordingHost, SnapshotHost
from tests.audit.journal_fixtures import MID, journal_remote, node_journals, write_journal
from tests.realtools import AUDIT_TOOLS, why_not_real
from tests.shared import COMPAT as SHARED_COMPAT

CFG = SHARED_COMPAT / "cfg"
K3S_SETS = ["cis-1.6-k3s", "k3s-cis-1.7", "k3s-cis-1.8", "k3s-cis-1.9", "k3s-cis-1.23", "k3s-cis-1.24"]

_NO_JOURNAL = journal_remote() is None or shutil.which("journalctl") is None
_NOT_REAL = "" if _NO_JOURNAL else why_not_real("journalctl", "sh", *AUDIT_TOOLS)
need_remote = pytest.mark.skipif(
    _NO_JOURNAL or bool(_NOT_REAL),
    reason=f"not the real tool: {_NOT_REAL}" if _NOT_REAL
    else "systemd-journal-remote and journalctl are needed (apt-get install systemd-journal-remote)",
)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def journalctl_scripts() -> list[str]:
    """Every distinct audit of the k3s sets (kube-bench's and the bundled one) that calls journalctl."""
    from kubecis.benchmark.bundled import materialise

    scripts: list[str] = []
    if CFG.is_dir():
        names = [n for n in K3S_SETS if (CFG / n).is_dir()]
        scripts += distinct(load_corpus(CFG, names), automated_only=False)
    scripts += distinct(load_corpus(materialise(), ["k3s-cis-1.9"]), automated_only=False)
    return [s for s in dict.fromkeys(scripts) if "journalctl" in s]


EXTRA = [
    "journalctl -u k3s",
    "journalctl -m -u k3s",
    "journalctl -u k3s-agent -m --no-pager",
    "journalctl --unit=k3s.service --merge -q",
    "journalctl -u nothing",
    "journalctl -q -u nothing; echo rc=$?",
    "journalctl -m -o cat -u k3s",
    "journalctl -o cat -u nothing",
    "journalctl -m",
    "journalctl",
    f"journalctl -D /var/log/journal/{MID} -u k3s",
    "journalctl -D /var/log/journal -u k3s-agent",
    "journalctl -D /run/log/journal",
    "journalctl -D /srv/journal-test -u k3s",
    "journalctl -D srv/journal-test -u k3s",
    "journalctl -D /srv/empty-journal -u k3s",
    "journalctl -D /srv/empty-journal -u k3s -q",
    "journalctl -D /nonexistent -u k3s; echo rc=$?",
]


# ---------------------------------------------------------------------------------------------- decoders


def test_xz_data_objects() -> None:
    data = b"MESSAGE=Running kube-apiserver " + b"--flag=value " * 200
    assert _decompress(1, lzma.compress(data, format=lzma.FORMAT_XZ)) == data


def _lz4_blocks(frame: bytes) -> list[tuple[bool, bytes]]:
    """Blocks of an LZ4 frame (magic, FLG, BD, [size], HC, then size-prefixed blocks)."""
    flg = frame[4]
    pos = 7 + (8 if flg & 0x08 else 0)
    blocks = []
    while True:
        size = int.from_bytes(frame[pos : pos + 4], "little")
        pos += 4
        if size == 0:
            return blocks
        raw = bool(size & 0x80000000)
        size &= 0x7FFFFFFF
        blocks.append((raw, frame[pos : pos + size]))
        pos += size + (4 if flg & 0x10 else 0)


@pytest.mark.skipif(shutil.which("lz4") is None, reason="the lz4 command-line tool is not installed (apt lz4)")
def test_lz4_data_objects() -> None:
    rng = random.Random(7)
    words = [b"--kubelet", b"=true", b" ", b"/var/lib/rancher/k3s/", b"abc", b"\n", b"z" * 40]
    for n in (20, 600, 5000, 60000):
        data = b"".join(rng.choice(words) for _ in range(n))[:n]
        frame = subprocess.run(["lz4", "-c", "-q", "-B4", "--no-frame-crc"], input=data, capture_output=True,
                               check=True).stdout
        blocks = _lz4_blocks(frame)
        assert len(blocks) == 1
        raw, block = blocks[0]
        if raw:
            continue
        assert _decompress(2, len(data).to_bytes(8, "little") + block) == data
    with pytest.raises(JournalUnsupported):
        _decompress(2, (5).to_bytes(8, "little") + b"\x50abc")


@pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd command-line tool is not installed (apt zstd)")
def test_zstd_against_the_reference_tool() -> None:
    rng = random.Random(1)
    words = [b"--kubelet", b"=true", b"--authorization-mode=Node,RBAC", b" ", b"/var/lib/rancher/k3s/server/tls/",
             b"\n", b"abc", b"0", b"x" * 50]
    for i in range(60):
        n = rng.choice([1, 10, 100, 600, 3000, 20000, 140000])
        kind = i % 3
        if kind == 0:
            data = bytes(rng.getrandbits(8) for _ in range(min(n, 5000)))
        elif kind == 1:
            data = b"".join(rng.choice(words) for _ in range(n // 8 + 1))[:n]
        else:
            data = bytes([rng.choice(b"ab")]) * n
        level = rng.choice(["-1", "-3", "-9", "-19", "--fast=5"])
        comp = subprocess.run(["zstd", "-q", "-c", level], input=data, capture_output=True, check=True).stdout
        assert _decompress(4, comp) == data, (i, n, level)
    with pytest.raises(JournalUnsupported):
        _decompress(4, b"\x28\xb5\x2f\xfd\x00\x00\x05\x00\x00")
    with pytest.raises(JournalUnsupported):
        _decompress(4, b"not zstd at all")


# ---------------------------------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def node_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if journal_remote() is None:
        pytest.skip("systemd-journal-remote is not installed (apt-get install systemd-journal-remote)")
    tmp = tmp_path_factory.mktemp("journal")
    root = tmp / "root"
    for path, data in node_journals(tmp / "gen").items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (root / "etc").mkdir(parents=True)
    (root / "etc/machine-id").write_text(MID + "\n")
    return root


def _real(args: list[str], cwd: Path | None = None) -> tuple[str, int]:
    r = subprocess.run(["journalctl", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC", "LC_ALL": "C"})
    return r.stdout.decode("utf-8", "replace"), r.returncode


@need_remote
@pytest.mark.parametrize("args", [
    ["-u", "k3s"], ["-m", "-u", "k3s", "-u", "k3s-agent"], [], ["-m"], ["-q", "-u", "k3s"], ["-o", "cat", "-u", "k3s"],
    ["-u", "nothing"], ["-u", "nothing", "-q"], ["-u", "k3s.service", "--no-pager"], ["--unit", "k3s-agent"],
])
@pytest.mark.parametrize("where", ["/var/log/journal", f"/var/log/journal/{MID}", "/run/log/journal"])
def test_directory_equals_journalctl(node_root: Path, where: str, args: list[str]) -> None:
    expected = _real(["-D", str(node_root) + where, *args])
    script = " ".join(["journalctl", "-D", where, *args])
    res = NativeExecutor(RootedHost(str(node_root))).run(script)
    assert not res.not_run, res.not_run
    assert (res.output, res.returncode) == expected


@need_remote
def test_no_entries_and_no_files(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write_journal(tmp_path / "j" / "system.journal", [{"MESSAGE": "hello", "_SYSTEMD_UNIT": "x.service",
                                                       "__REALTIME_TIMESTAMP": "1700000000000000",
                                                       "__MONOTONIC_TIMESTAMP": "1", "_BOOT_ID": "1" * 32}])
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "bad.journal").write_bytes(b"LPKSHHRH")
    host = RootedHost(str(tmp_path))
    for d, args in [("empty", ["-u", "k3s"]), ("empty", ["-q"]), ("j", ["-u", "k3s"]), ("j", ["-u", "k3s", "-q"]),
                    ("j", ["-o", "cat", "-u", "k3s"]), ("t", []), ("t", ["-q"]), ("j", []), ("nonexistent", [])]:
        # relative -D: the reader resolves it against the shell's cwd, messages keep the spelling
        expected = _real(["-D", d, *args], cwd=tmp_path)
        res = NativeExecutor(host, cwd="/").run(" ".join(["journalctl", "-D", d, *args]))
        assert not res.not_run, res.not_run
        assert (res.output, res.returncode) == expected, (d, args)


@need_remote
def test_default_locations_and_merge(node_root: Path) -> None:
    """Without -D: /run/log/journal and /var/log/journal; only this machine's directory unless -m."""
    host = RootedHost(str(node_root))
    local = read_journal(host, JournalQuery(units=("k3s.service",)))
    merged = read_journal(host, JournalQuery(local_only=False, units=("k3s.service",)))
    assert local.files == 3 and merged.files == 4
    msgs = [e.get("MESSAGE") or b"" for e in merged.entries]
    assert b"volatile k3s entry" in msgs
    assert any(b"--node2" in m for m in msgs[-1:])
    assert not any(b"--node2" in (e.get("MESSAGE") or b"") for e in local.entries)
    # the unit match: the service itself, systemd about it, coredumps, authorized daemons (uid 0 only)
    assert b"about k3s from an authorized daemon" in msgs and b"about k3s but not uid 0" not in msgs
    assert b"coredump of k3s" in msgs and b"Starting Lightweight Kubernetes..." in msgs
    assert not any(m.startswith(b"Running kubelet --fake") for m in msgs)


@need_remote
def test_snapshot_records_entries_with_secrets_redacted(node_root: Path, tmp_path: Path) -> None:
    script = "journalctl -u k3s | grep 'Running kube-apiserver' | tail -n1"
    live = NativeExecutor(RootedHost(str(node_root))).run(script)
    rec = RecordingHost(RootedHost(str(node_root)))
    assert NativeExecutor(rec).run(script) == live
    rec.save(str(tmp_path / "snap.json.gz"))
    snap = SnapshotHost.load(str(tmp_path / "snap.json.gz"))
    replay = NativeExecutor(snap).run(script)
    assert "--token=s3cr3t" in live.output
    assert "s3cr3t" not in replay.output and "--token=REDACTED-BY-KUBECIS" in replay.output
    assert replay.output.replace("REDACTED-BY-KUBECIS", "s3cr3t") == live.output
    other = NativeExecutor(snap).run("journalctl -u k3s-agent")
    assert other.not_run.startswith("not in snapshot: journal")


def test_unsupported_forms_say_so() -> None:
    for script in ["journalctl --since today -u k3s", "journalctl -u 'k3s*'", "journalctl _PID=1",
                   "journalctl -o json -u k3s", "journalctl -b -u k3s", "journalctl -f"]:
        assert unsupported_reason(script) is not None, script


def test_every_k3s_journal_audit_is_supported() -> None:
    """journalctl itself is never the reason (other shell constructs are someone else's business)."""
    scripts = journalctl_scripts()
    assert len(scripts) >= 40
    for s in scripts:
        assert "journalctl" not in (unsupported_reason(s) or ""), s


# ---------------------------------------------------------------------------------------------- hermetic

RUNNER = r"""
import json, os, subprocess, sys, time
from kubecis.audit.native import NativeExecutor
from kubecis.host.live import LiveHost
scripts = json.load(open(sys.argv[1]))
out = []
for tz in ("UTC", "Asia/Kolkata"):
    os.environ["TZ"] = tz
    time.tzset()
    # the kubecis console script first on PATH, as `pip install` puts it: the shell runs `kubecis probe` audits
    path = os.path.dirname(sys.executable) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    env = {"PATH": path, "TZ": tz, "LC_ALL": "C"}
    for s in scripts:
        r = subprocess.run(["/bin/sh"], input=s.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        n = NativeExecutor(LiveHost(), env=env).run(s)
        out.append([tz, s, r.stdout.decode("utf-8", "replace"), r.returncode, n.output, n.returncode, n.not_run])
print(json.dumps(out))
"""


def _run_node(files: dict[str, bytes], scripts: list[str]) -> list[list[object]]:
    from tests.hermetic.node import DEFAULT_MASKS, Dir, File, NodeSpec, run_in_node, skip_unless_hermetic

    skip_unless_hermetic()
    spec = NodeSpec(
        name="k3s-journal",
        files=(
            *(File(p, b, mode=0o640) for p, b in files.items()),
            File("/etc/machine-id", MID + "\n", mode=0o444),
            File("/srv/journal-runner.json", json.dumps(scripts)),
        ),
        dirs=(Dir("/var/log/journal"), Dir("/srv/empty-journal")),
        masks=(*DEFAULT_MASKS, "/var/log/journal", "/run/log/journal"),
    )
    res = run_in_node(spec, [sys.executable, "-c", RUNNER, "/srv/journal-runner.json"], timeout=600)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def _assert_same(rows: list[list[object]]) -> None:
    """Byte-identical output and status; audits not run natively for a reason other than journalctl
    (a shell construct outside the subset) are left out, but never more than a few."""
    other = [r for r in rows if r[6] and "journalctl" not in str(r[6])]
    assert len(other) <= len(rows) // 20, other[:3]
    bad = [r for r in rows if r not in other and (r[6] or (r[2], r[3]) != (r[4], r[5]))]
    assert not bad, "\n".join(f"TZ={r[0]} {r[1]!r}\n  sh:     {r[3]} {r[2]!r}\n  native: {r[5]} {r[4]!r} {r[6]}"
                              for r in bad[:5])


@need_remote
@pytest.mark.hermetic
def test_k3s_journal_audits_in_a_node(node_root: Path) -> None:
    files = {"/" + str(p.relative_to(node_root)): p.read_bytes() for p in node_root.rglob("*.journal")}
    files["/srv/journal-test/system.journal"] = files[f"/var/log/journal/{MID}/system.journal"]
    files["/srv/journal-test/truncated.journal"] = b"LPKSHHRH" + bytes(100)
    scripts = journalctl_scripts() + EXTRA
    rows = _run_node(files, scripts)
    assert len(rows) == 2 * len(scripts)
    _assert_same(rows)
    # the audits saw real content: the last apiserver line of the merged journal is node2's
    outputs = {r[1]: r[2] for r in rows if r[0] == "UTC"}
    assert "--node2" in str(outputs["journalctl -m -u k3s | grep 'Running kube-apiserver' | tail -n1"])


@need_remote
@pytest.mark.hermetic
def test_k3s_journal_audits_without_a_journal() -> None:
    scripts = journalctl_scripts()[:30] + EXTRA
    _assert_same(_run_node({}, scripts))


@need_remote
def test_time_zone_and_locale_of_the_node(node_root: Path, tmp_path: Path) -> None:
    """--root: the node's /etc/localtime decides the timestamps; a non-English locale is not guessed."""
    zone = Path("/usr/share/zoneinfo/America/New_York")
    if not zone.exists():
        pytest.skip("tzdata is not installed")
    root = tmp_path / "root"
    shutil.copytree(node_root / "var", root / "var")
    (root / "etc").mkdir()
    (root / "etc/localtime").write_bytes(zone.read_bytes())
    d = f"/var/log/journal/{MID}"
    r = subprocess.run(["journalctl", "-D", str(root) + d, "-u", "k3s"], capture_output=True,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "America/New_York"})
    res = NativeExecutor(RootedHost(str(root))).run(f"journalctl -D {d} -u k3s")
    assert res.output == r.stdout.decode() and "Nov 22 13:26:40" in res.output
    res = NativeExecutor(RootedHost(str(root)), env={"PATH": "/bin", "LANG": "de_DE.UTF-8"}).run(
        f"journalctl -D {d} -u k3s")
    assert res.not_run == "audit not supported natively: journalctl with LANG=de_DE.UTF-8"
    res = NativeExecutor(RootedHost(str(root)), env={"PATH": "/bin", "LANG": "de_DE.UTF-8"}).run(
        f"journalctl -D {d} -u k3s -o cat")
    assert not res.not_run


@need_remote
def test_damaged_or_online_files_never_crash(node_root: Path) -> None:
    """Random damage (as in a file still being written) gives entries or JournalUnsupported, nothing else."""
    from kubecis.host.journal import _File, _Truncated, unit_match

    data = (node_root / f"var/log/journal/{MID}/system.journal").read_bytes()
    used = max(i for i in range(0, len(data), 4096) if any(data[i : i + 4096])) + 4096
    terms = unit_match(("k3s.service",))
    rng = random.Random(11)
    for i in range(400):
        d = bytearray(data)
        for _ in range(rng.choice([1, 3, 10])):
            d[rng.randrange(8, 272) if i % 2 else rng.randrange(272, used)] = rng.randrange(256)
        try:
            f = _File(bytes(d), "x")
            for off in f.candidate_offsets(terms):
                if f.entry(off) is None:
                    break
        except (JournalUnsupported, _Truncated):
            pass


def _lz4_compress(data: bytes) -> bytes:
    frame = subprocess.run(["lz4", "-c", "-q", "-B4", "--no-frame-crc"], input=data, capture_output=True,
                           check=True).stdout
    (raw, block), = _lz4_blocks(frame)
    assert not raw
    return len(data).to_bytes(8, "little") + block


@need_remote
@pytest.mark.parametrize("kind", ["xz", "lz4"])
@pytest.mark.parametrize("compact", [True, False])
def test_xz_and_lz4_journal_files(tmp_path: Path, kind: str, compact: bool) -> None:
    if kind == "lz4" and shutil.which("lz4") is None:
        pytest.skip("the lz4 command-line tool is not installed (apt lz4)")
    from tests.audit.journal_fixtures import APISERVER, _Clock, k3s_server_boot, recompress

    entries = k3s_server_boot(_Clock(1_732_480_000_000_000, "e" * 32, "node1"), APISERVER, "--read-only-port=0")
    plain = write_journal(tmp_path / "plain.journal", entries, compress=False, compact=compact)
    xz: Callable[[bytes], bytes] = lambda b: lzma.compress(b, format=lzma.FORMAT_XZ)  # noqa: E731
    d = tmp_path / "j"
    d.mkdir()
    (d / "system.journal").write_bytes(recompress(plain, kind, xz if kind == "xz" else _lz4_compress))
    for args in (["-u", "k3s"], ["-o", "cat"]):
        expected = _real(["-D", str(d), *args])
        assert "Running kube-apiserver --advertise-address" in expected[0]
        res = NativeExecutor(RootedHost(str(tmp_path))).run(" ".join(["journalctl", "-D", "/j", *args]))
        assert not res.not_run, res.not_run
        assert (res.output, res.returncode) == expected


# ---------------------------------------------------------------------------------------------- whole runs

RUN_SETS = [("compat", n) for n in K3S_SETS] + [("bundled", "k3s-cis-1.9")]


def _run_script() -> str:
    kubecis = Path(sys.executable).parent / "kubecis"
    lines = []
    for ex in ("shell", "native"):
        for where, bench in RUN_SETS:
            cfg = f"--config-dir {CFG} " if where == "compat" else ""
            lines.append(f"{kubecis} run {cfg}--benchmark {bench} --targets master,etcd,controlplane,node "
                         f"--executor {ex} --json || echo '{{}}'")
    return "\n".join(lines)


@need_remote
@pytest.mark.hermetic
def test_k3s_runs_native_equals_shell(node_root: Path) -> None:
    """kubecis run on a k3s node, both executors: every journalctl check gets the same verdict."""
    from tests.hermetic.node import DEFAULT_MASKS, File, NodeSpec, run_in_node, skip_unless_hermetic

    skip_unless_hermetic()
    if not CFG.is_dir():
        pytest.skip(f"kube-bench compat data not found at {CFG}")
    files = {"/" + str(p.relative_to(node_root)): p.read_bytes() for p in node_root.rglob("*.journal")}
    spec = NodeSpec(
        name="k3s-journal-run",
        files=(*(File(p, b, mode=0o640) for p, b in files.items()), File("/etc/machine-id", MID + "\n")),
        masks=(*DEFAULT_MASKS, "/var/log/journal", "/run/log/journal"),
    )
    path = f"{Path(sys.executable).parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    res = run_in_node(spec, ["/bin/sh", "-c", _run_script()], timeout=900,
                      env={"PATH": path, "TZ": "UTC", "LANG": "C.UTF-8"})
    lines = res.stdout.splitlines()
    assert len(lines) == 2 * len(RUN_SETS), res.stderr[-2000:]
    compared = 0
    for i, (_, bench) in enumerate(RUN_SETS):
        shell, native = json.loads(lines[i]), json.loads(lines[i + len(RUN_SETS)])
        assert shell.get("Controls"), (bench, res.stderr[-2000:])

        def rows(doc: dict[str, object]) -> dict[str, tuple[object, ...]]:
            return {f'{ctl["id"]}/{c["test_number"]}': (c["status"], c["actual_value"], c["expected_result"],
                                                        c.get("reason", ""), c["audit"] + c["AuditConfig"])
                    for ctl in doc["Controls"] for g in ctl["tests"] or [] for c in g["results"]}  # type: ignore

        s_rows, n_rows = rows(shell), rows(native)
        assert s_rows.keys() == n_rows.keys()
        for key, (state, actual, expected, _reason, audit) in s_rows.items():
            if "journalctl" not in str(audit):
                continue
            n_state, n_actual, n_expected, n_reason, _ = n_rows[key]
            if str(n_reason).startswith("audit not supported natively:") and "journalctl" not in str(n_reason):
                continue  # a shell construct outside the subset, not journalctl
            assert (n_state, n_actual, n_expected) == (state, actual, expected), (bench, key, n_reason)
            compared += 1
    assert compared >= 150

"""Landlock: the enforcement plan (what is exact, coarser, missing on an ABI) and real kernel enforcement."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubecis.profile import landlock, runner
from kubecis.profile.errors import ProfileError
from kubecis.profile.model import RuntimeProfile, loads
from kubecis.seccomp.errors import SeccompError

SECCOMP_DENY_LIST = """\
seccomp:
  defaultAction: SCMP_ACT_ALLOW
  syscalls:
  - names: [ptrace]
    action: SCMP_ACT_ERRNO
"""


def _profile(files: str, network: str = "") -> RuntimeProfile:
    return loads(f"kubecis-profile: 1\nfiles:\n{files}\nnetwork:\n{network or '  sockets: []'}\n{SECCOMP_DENY_LIST}",
                 source="t.yaml")


# ---- the plan (pure apart from stat) -------------------------------------------------------------------


def test_plan_statuses(tmp_path: Path) -> None:
    (tmp_path / "db").write_text("x")
    (tmp_path / "lib").mkdir()
    prof = _profile(
        f"  read: [{tmp_path}/db, {tmp_path}/lib/**, {tmp_path}/, {tmp_path}/missing/deeper]\n"
        f"  create: [{tmp_path}/tmp*]\n  execute: []\n  write: []",
        "  sockets: [inet/stream]\n  tcp: {connect: ['127.0.0.1:5432', '*:80'], bind: []}\n"
        "  udp: {send: ['10.0.0.1:53']}\n  unix: {connect: [/run/x.sock]}",
    )
    pl = landlock.plan(prof, 7)
    status = {(s.section, s.rule): s.status for s in pl.statuses}
    assert status[("files.read", f"{tmp_path}/db")] == "exact"
    assert status[("files.read", f"{tmp_path}/lib/**")] == "exact"
    assert status[("files.read", f"{tmp_path}/")] == "coarser"  # a listing applies beneath too
    assert status[("files.create", f"{tmp_path}/tmp*")] == "coarser"  # names are not inodes
    assert status[("network.tcp.connect", "127.0.0.1:5432")] == "coarser"  # ports, not addresses
    assert status[("network.tcp.connect", "*:80")] == "exact"
    assert status[("network.udp.send", "10.0.0.1:53")] == "coarser"
    assert status[("network.unix.connect", "/run/x.sock")] == "coarser"
    # the read-only db lies beneath the coarse create grant on tmp_path: Landlock cannot keep it read-only
    assert any(f"{tmp_path}/db (read only) could be written" in c for c in pl.conflicts)
    assert pl.connect_ports == {5432, 80} and not pl.bind_ports
    grants = {g.path: g.rights for g in pl.grants}
    assert grants[f"{tmp_path}/db"] == landlock.READ_FILE  # file rights only on a file
    assert grants[f"{tmp_path}/lib"] == landlock.READ_FILE | landlock.READ_DIR
    assert not pl.missing
    assert pl.fs_allows(f"{tmp_path}/db", landlock.READ_FILE)
    assert not pl.fs_allows("/etc/passwd", landlock.READ_FILE)
    assert pl.fs_allows(f"{tmp_path}/tmpx", landlock.MAKE_REG)


@pytest.mark.parametrize(
    ("abi", "missing"),
    [
        (0, ["every file rule", "TCP connect/bind by port: no Landlock", "abstract unix sockets"]),
        (1, ["truncation", "TCP connect/bind by port (needs ABI 4, have 1)", "abstract unix sockets"]),
        (3, ["TCP connect/bind by port (needs ABI 4, have 3)", "abstract unix sockets outside the sandbox (needs ABI "
                                                               "6, have 3)"]),
        (5, ["abstract unix sockets outside the sandbox (needs ABI 6, have 5)"]),
        (6, []),
        (7, []),
    ],
)
def test_plan_missing_per_abi(abi: int, missing: list[str]) -> None:
    pl = landlock.plan(_profile("  read: [/usr/**]"), abi)
    assert len(pl.missing) == len(missing), pl.missing
    for want, got in zip(missing, pl.missing, strict=True):
        assert want in got
    assert pl.fs == landlock.handled_fs(abi)
    assert bool(pl.net) == (abi >= 4)


def test_handled_rights_grow_with_abi() -> None:
    assert landlock.handled_fs(1) == (1 << 13) - 1
    assert landlock.handled_fs(2) & landlock.REFER and not landlock.handled_fs(2) & landlock.TRUNCATE
    assert landlock.handled_fs(7) == (1 << 16) - 1


# ---- the kernel -----------------------------------------------------------------------------------------


def test_kernel_abi(needs_landlock: None) -> None:
    abi = landlock.kernel_abi()
    assert 1 <= abi < 64
    assert landlock.kernel_abi_reason() == f"Landlock ABI {abi}"


@pytest.fixture
def listeners() -> Iterator[list[int]]:
    """Two TCP listeners on loopback that accept and close."""
    socks = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        s.settimeout(0.2)
        socks.append(s)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            for s in socks:
                try:
                    c, _ = s.accept()
                    c.close()
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield [int(s.getsockname()[1]) for s in socks]
    stop.set()
    t.join(5)
    for s in socks:
        s.close()


PROBE = r"""
import json, os, socket, sys
out = {}
def attempt(name, fn):
    try:
        fn(); out[name] = "ok"
    except OSError as e:
        out[name] = e.errno
d, p_ok, p_other = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
attempt("read", lambda: open(os.path.join(d, "ro.txt")).read())
attempt("write-allowed", lambda: open(os.path.join(d, "rw.txt"), "a").write("x"))
attempt("write-readonly", lambda: open(os.path.join(d, "ro.txt"), "a").write("x"))
attempt("create", lambda: open(os.path.join(d, "new.txt"), "w").close())
attempt("mkdir", lambda: os.mkdir(os.path.join(d, "newdir")))
attempt("connect-allowed", lambda: socket.create_connection(("127.0.0.1", p_ok), timeout=5).close())
attempt("connect-other", lambda: socket.create_connection(("127.0.0.1", p_other), timeout=5).close())
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close())
attempt("unix", lambda: socket.socket(socket.AF_UNIX).close())
print(json.dumps(out))
"""


def _probe_profile(d: Path, port: int) -> RuntimeProfile:
    return _profile(
        f"  read: ['/**']\n  execute: ['/**']\n  write: [{d}/rw.txt]\n  create: []",
        f"  sockets: [inet/stream]\n  tcp: {{connect: ['127.0.0.1:{port}']}}",
    )


def _run_probe(d: Path, ports: list[int], capfd: pytest.CaptureFixture[str], **kw: object) -> dict[str, object]:
    (d / "ro.txt").write_text("read me")
    (d / "rw.txt").write_text("")
    rc = runner.enforce([sys.executable, "-B", "-c", PROBE, str(d), str(ports[0]), str(ports[1])],
                        _probe_profile(d, ports[0]), source="t.yaml", **kw)  # type: ignore[arg-type]
    out, err = capfd.readouterr()
    assert rc == 0, err
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    result["_stderr"] = err
    return result


def test_enforce_blocks_with_the_kernels_error(
    tmp_path: Path, listeners: list[int], capfd: pytest.CaptureFixture[str], needs_landlock: None,
    needs_seccomp: None,
) -> None:
    if landlock.kernel_abi() < 6:
        pytest.skip("needs Landlock ABI 6 (TCP ports and abstract unix scoping)")
    r = _run_probe(tmp_path, listeners, capfd)
    assert r["read"] == "ok" and r["write-allowed"] == "ok" and r["connect-allowed"] == "ok"
    assert r["write-readonly"] == 13 and r["create"] == 13 and r["mkdir"] == 13  # EACCES from Landlock
    assert r["connect-other"] == 13  # EACCES: Landlock TCP connect
    assert r["udp"] == 13 and r["unix"] == 13  # EACCES: the socket-kind filter
    assert not (tmp_path / "new.txt").exists() and not (tmp_path / "newdir").exists()
    # control: the same probe unconfined can do everything
    import subprocess

    free = subprocess.run([sys.executable, "-B", "-c", PROBE, str(tmp_path), str(listeners[0]), str(listeners[1])],
                          capture_output=True, text=True, timeout=60)
    assert set(json.loads(free.stdout).values()) == {"ok"}


def test_older_abi_is_refused_then_best_effort(
    tmp_path: Path, listeners: list[int], capfd: pytest.CaptureFixture[str], needs_landlock: None,
    needs_seccomp: None,
) -> None:
    prof = _probe_profile(tmp_path, listeners[0])
    with pytest.raises(ProfileError) as ei:
        runner.enforce([sys.executable, "-c", "pass"], prof, source="t.yaml", abi_cap=3)
    msg = str(ei.value)
    assert msg.splitlines()[0].startswith("t.yaml: this kernel (Landlock ABI 3: --landlock-abi 3) cannot enforce")
    assert "cannot enforce: TCP connect/bind by port (needs ABI 4, have 3)" in msg
    r = _run_probe(tmp_path, listeners, capfd, abi_cap=3, best_effort=True)
    assert r["connect-other"] == "ok"  # not enforced, and said so:
    assert "running with fewer restrictions than the profile states" in str(r["_stderr"])
    assert r["write-readonly"] == 13  # files are still enforced at ABI 3
    with pytest.raises(ProfileError) as ei:
        runner.enforce([sys.executable, "-c", "pass"], prof, source="t.yaml", abi_cap=0)
    assert "(no Landlock: --landlock-abi 0)" in str(ei.value) and "every file rule" in str(ei.value)


def test_conflict_is_refused(tmp_path: Path, needs_landlock: None, needs_seccomp: None) -> None:
    (tmp_path / "products.db").write_text("x")
    prof = _profile(f"  read: [{tmp_path}/products.db]\n  execute: ['/**']\n  create: [{tmp_path}/out.log]")
    with pytest.raises(ProfileError) as ei:
        runner.enforce([sys.executable, "-c", "pass"], prof, source="t.yaml")
    assert f"conflict: {tmp_path}/products.db (read only) could be written" in str(ei.value)


def test_exec_not_allowed_is_explained(tmp_path: Path, needs_landlock: None, needs_seccomp: None) -> None:
    prof = _profile("  read: ['/**']\n  execute: []")
    with pytest.raises(SeccompError, match="stopped .* before it started: exec failed with Permission denied"):
        runner.enforce([sys.executable, "-c", "pass"], prof, source="t.yaml")


SOCKETS = r"""
import json, socket
out = {}
kinds = (("tcp", socket.AF_INET, socket.SOCK_STREAM), ("udp", socket.AF_INET, socket.SOCK_DGRAM),
         ("udp6", socket.AF_INET6, socket.SOCK_DGRAM), ("unix-stream", socket.AF_UNIX, socket.SOCK_STREAM),
         ("unix-dgram", socket.AF_UNIX, socket.SOCK_DGRAM))
for name, fam, typ in kinds:
    try:
        socket.socket(fam, typ | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK).close(); out[name] = "ok"
    except OSError as e:
        out[name] = e.errno
print(json.dumps(out))
"""


def test_socket_kind_filter_in_the_kernel(capfd: pytest.CaptureFixture[str], needs_landlock: None,
                                          needs_seccomp: None) -> None:
    prof = _profile("  read: ['/**']\n  execute: ['/**']", "  sockets: [inet/dgram, unix/stream]")
    assert runner.enforce([sys.executable, "-B", "-c", SOCKETS], prof, source="t.yaml") == 0
    got = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    # flags (CLOEXEC, NONBLOCK) in the type argument do not matter; family and type do
    assert got == {"tcp": 13, "udp": "ok", "udp6": 13, "unix-stream": "ok", "unix-dgram": 13}


def test_allow_all_seccomp_section_still_enforces_files(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], needs_landlock: None, needs_seccomp: None
) -> None:
    text = ("kubecis-profile: 1\nfiles:\n  read: ['/**']\n  execute: ['/**']\nnetwork:\n  sockets: []\n"
            "seccomp:\n  defaultAction: SCMP_ACT_ALLOW\n")
    prof = loads(text, source="t.yaml")
    code = f"open({str(tmp_path / 'x')!r}, 'w')"
    rc = runner.enforce([sys.executable, "-B", "-c", code], prof, source="t.yaml")
    err = capfd.readouterr().err
    assert rc == 1 and "PermissionError" in err  # Landlock still denies the write
    assert "the seccomp section of t.yaml allows every syscall: no syscall filter" in err

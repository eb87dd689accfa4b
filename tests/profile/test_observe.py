"""strace output -> file and network events (pure parsing on recorded lines), plus the helpers that
look at the file system after a run (ELF interpreter, birth time)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from kubecis.profile import observe
from kubecis.profile.observe import Activity, parse, split_args, unescape

NATIVE = "SCMP_ARCH_X86_64"

# Recorded with observe.STRACE_ARGS (trimmed, names and addresses changed): every form parse() handles.
TRACE = (Path(__file__).parent / "data" / "trace.txt").read_text()


@pytest.fixture(scope="module")
def act() -> Activity:
    return parse(TRACE.strip().splitlines(), native=NATIVE, cwd="/srv/app", exec_name="python")


def _objs(act: Activity, kind: str, op: str) -> set[str]:
    return {o for (k, p, o) in act.events if k == kind and p == op}


def test_file_events(act: Activity) -> None:
    assert _objs(act, "file", "read") == {"/etc/ld.so.cache", "/srv/app/app.py", "/srv/app/products.db"}
    assert _objs(act, "file", "list") == {"/srv/app"}
    assert _objs(act, "file", "write") == {"/srv/app/products.db", '/tmp/we ird>dir/q"b\\s', "/tmp/é",
                                           "/var/lib/app/t.log"}
    # O_EXCL is a creation; O_CREAT alone waits for the birth-time check; O_TMPFILE creates in the directory
    assert _objs(act, "file", "create") == {'/tmp/we ird>dir/q"b\\s', "/tmp/é", "/srv/app/cache", "/var/lib/app/a",
                                            "/srv/*", "/var/lib/app/sub/out", "/var/lib/app/app.sock"}
    assert set(act.may_create) == {"/srv/app/products.db"}
    assert _objs(act, "file", "remove") == {"/var/lib/app/old.tmp", "/var/lib/app/a.new"}
    assert _objs(act, "file", "execute") == {"/srv/app/venv/bin/python", "/var/lib/app/sub/tool"}
    assert not any(o.endswith("missing") or o == "/etc" for (_, _, o) in act.events)  # failed / O_PATH opens


def test_network_events(act: Activity) -> None:
    assert _objs(act, "tcp", "bind") == {"0.0.0.0:8080"}
    assert _objs(act, "tcp", "connect") == {"[fd00::5]:5432"}  # EINPROGRESS is an attempt
    assert _objs(act, "udp", "send") == {"10.96.0.10:53", "10.0.0.1:123"}
    assert _objs(act, "unix", "connect") == {"@abstract\\x00x", "/run/nscd/socket"}
    assert _objs(act, "unix", "bind") == {"/var/lib/app/app.sock"}
    assert _objs(act, "socket", "create") == {"inet/stream", "inet6/stream", "inet/dgram", "unix/stream"}
    assert "1.2.3.4:9" not in str(act.events)  # EBADF: not an attempt


def test_processes_threads_and_first_time(act: Activity) -> None:
    log = act.events[("file", "write", "/var/lib/app/t.log")]
    assert (log.pid, log.tid, log.comm) == (100, 101, "python3")  # a thread is reported with its process
    tool = act.events[("file", "execute", "/var/lib/app/sub/tool")]
    assert (tool.pid, tool.comm, tool.ts) == (102, "tool", 1700000000.0032)  # when the exec returned
    assert act.exe[100] == "/srv/app/venv/bin/python" and act.exe[102] == "/var/lib/app/sub/tool"
    first = act.events[("file", "execute", "/srv/app/venv/bin/python")]
    assert first.comm == "python"  # strace's own comm before the exec is replaced by the command's
    assert act.syscalls.exec_ok
    assert act.syscalls.counts()["openat"] == 10


def test_syscall_events_for_audit() -> None:
    a = parse(TRACE.strip().splitlines(), native=NATIVE, cwd="/", syscall_events=True)
    assert a.events[("syscall", "write", "write")].count == 1
    assert a.events[("syscall", "clone3", "clone3")].count == 1  # counted once, not again when resumed


def test_split_args_and_unescape() -> None:
    assert split_args('3</a,b>, "x,)\\"y", {a=1, b=[2, 3]}) = 0') == (['3</a,b>', '"x,)\\"y"', "{a=1, b=[2, 3]}"], "0")
    assert split_args("0x1 /* 3, vars */) = -1 ENOENT (x)") == (["0x1 /* 3, vars */"], "-1 ENOENT (x)")
    assert split_args("unterminated(") is None
    assert unescape(r"a\x2f\76\"\\\n\0") == b'a/>"\\\n\x00'


def test_interpreters_of_real_programs(tmp_path: Path) -> None:
    real = os.path.realpath(sys.executable)
    interp = observe.interpreters(real)
    if interp:  # a dynamically linked interpreter: PT_INTERP names the loader
        assert interp[0].startswith("/") and "ld" in os.path.basename(interp[0])
    sh = shutil.which("sh")
    assert sh is not None
    script = tmp_path / "s"
    script.write_text(f"#!{sh} -e\necho\n")
    assert observe.interpreters(str(script)) == [sh]
    assert observe.interpreters(str(tmp_path / "missing")) == []


def test_birth_time_tells_new_from_old(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    born = observe.birth_time(str(f))
    if born is None:
        pytest.skip("this file system does not record birth times")
    assert abs(born - time.time()) < 60
    a = Activity(observe.parse([], native=NATIVE, cwd="/").syscalls)
    a.may_create[str(f)] = observe.Agg(1, 1, "x", 0.0)
    a.may_create[str(tmp_path / "gone")] = observe.Agg(1, 1, "x", 0.0)
    observe.resolve_creations(a, since=time.time() + 3600)  # f existed "before": not a creation
    assert _objs(a, "file", "create") == {str(tmp_path / "gone")}

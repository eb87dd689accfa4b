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

TRACE = r"""
100<strace> 1700000000.000001 execve("/srv/app/venv/bin/python", ["python", "app.py"], 0x7ffc /* 3 vars */) = 0
100<python3> 1700000000.000100 openat(AT_FDCWD</srv/app>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>
100<python3> 1700000000.000200 openat(AT_FDCWD</srv/app>, "app.py", O_RDONLY|O_CLOEXEC) = 3</srv/app/app.py>
100<python3> 1700000000.000300 openat(AT_FDCWD</srv/app>, "/srv/app", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3</srv/app>
100<python3> 1700000000.000400 openat(AT_FDCWD</srv/app>, "missing", O_RDONLY) = -1 ENOENT (No such file or directory)
100<python3> 1700000000.000500 openat(AT_FDCWD</srv/app>, "products.db", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 4</srv/app/products.db>
100<python3> 1700000000.000600 openat(AT_FDCWD</srv/app>, "/tmp/we ird\76dir/q\"b\\s", O_WRONLY|O_CREAT|O_EXCL, 0600) = 5</tmp/we ird\76dir/q\"b\\s>
100<python3> 1700000000.000700 openat(AT_FDCWD</srv/app>, "\x2f\x74\x6d\x70\x2f\xc3\xa9", O_WRONLY|O_CREAT|O_EXCL, 0600) = 5<\x2f\x74\x6d\x70\x2f\xc3\xa9>
100<python3> 1700000000.000800 openat(AT_FDCWD</srv/app>, "/etc", O_PATH) = 6</etc>
100<python3> 1700000000.000900 mkdir("cache", 0777) = 0
100<python3> 1700000000.001000 chdir("/var/lib/app") = 0
100<python3> 1700000000.001100 unlink("old.tmp") = 0
100<python3> 1700000000.001200 renameat2(AT_FDCWD</var/lib/app>, "a.new", AT_FDCWD</var/lib/app>, "a", RENAME_NOREPLACE) = 0
100<python3> 1700000000.001300 openat(AT_FDCWD</var/lib/app>, "/srv", O_RDONLY|O_TMPFILE, 0600) = 7</srv/#123 (deleted)>
100<python3> 1700000000.001400 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 8<TCP:[1]>
100<python3> 1700000000.001500 bind(8<TCP:[1]>, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
100<python3> 1700000000.001600 socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 9<TCPv6:[2]>
100<python3> 1700000000.001700 connect(9<TCPv6:[2]>, {sa_family=AF_INET6, sin6_port=htons(5432), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "fd00::5", &sin6_addr), sin6_scope_id=0}, 28) = -1 EINPROGRESS (Operation now in progress)
100<python3> 1700000000.001800 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 10<UDP:[3]>
100<python3> 1700000000.001900 sendto(10<UDP:[3]>, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.96.0.10")}, 16) = 1
100<python3> 1700000000.002000 sendmsg(10<UDP:[0.0.0.0:4000]>, {msg_name={sa_family=AF_INET, sin_port=htons(123), sin_addr=inet_addr("10.0.0.1")}, msg_namelen=16, msg_iov=[{iov_base="y", iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 1
100<python3> 1700000000.002100 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 11<UNIX-STREAM:[4]>
100<python3> 1700000000.002200 connect(11<UNIX-STREAM:[4]>, {sa_family=AF_UNIX, sun_path=@"abstract\0x"}, 13) = -1 ECONNREFUSED (Connection refused)
100<python3> 1700000000.002300 connect(11<UNIX-STREAM:[4]>, {sa_family=AF_UNIX, sun_path="/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
100<python3> 1700000000.002400 bind(12<UNIX-STREAM:[5]>, {sa_family=AF_UNIX, sun_path="app.sock"}, 110) = 0
100<python3> 1700000000.002500 connect(13<socket:[6]>, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("1.2.3.4")}, 16) = -1 EBADF (Bad file descriptor)
100<python3> 1700000000.002600 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x1, parent_tid=0x1, exit_signal=0, stack=0x1, stack_size=0x1, tls=0x1} <unfinished ...>
100<python3> 1700000000.002700 <... clone3 resumed> => {parent_tid=[101]}, 88) = 101<python3>
101<python3> 1700000000.002800 openat(AT_FDCWD</var/lib/app>, "t.log", O_WRONLY|O_APPEND) = 3</var/lib/app/t.log>
100<python3> 1700000000.002900 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x1) = 102<python3>
102<python3> 1700000000.003000 chdir("sub") = 0
102<python3> 1700000000.003100 execve("./tool", ["./tool"], 0x1 /* 3 vars */ <unfinished ...>
102<tool> 1700000000.003200 <... execve resumed>) = 0
102<tool> 1700000000.003300 mkdir("out", 0700) = 0
102<tool> 1700000000.003400 write(1, 0x1, 3) = 3
102<tool> 1700000000.003500 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---
102<tool> 1700000000.003600 +++ exited with 0 +++
"""


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

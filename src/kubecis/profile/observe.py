"""What a traced command did with files and the network, from strace's output.

strace runs with ``-f -ttt -Y -x --decode-fds=path,socket``: every process is followed, each line
carries pid, comm and time, and file descriptors are printed with what they point to
(``3</srv/app/products.db>``, ``5<TCP:[...]>``, ``AT_FDCWD</srv/app>``), so an ``openat`` is
recorded with the path the kernel resolved. Only the syscalls in :data:`DECODED` have their
arguments decoded; everything else is printed raw (names are all the seccomp part needs).

Parsing (:func:`parse`) is pure and unit-tested on recorded lines; :func:`trace` runs the command.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import posixpath
import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from kubecis.profile.paths import normalise_proc
from kubecis.seccomp.trace import Observed as SyscallsObserved

#: Syscalls whose arguments kubecis decodes.
FILE_CALLS = frozenset({
    "open", "openat", "openat2", "creat", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat",
    "renameat2", "link", "linkat", "symlink", "symlinkat", "mknod", "mknodat", "truncate", "execve", "execveat",
    "chdir", "fchdir",
})
NET_CALLS = frozenset({"socket", "connect", "bind", "sendto", "sendmsg", "sendmmsg"})
PROC_CALLS = frozenset({"clone", "clone3", "fork", "vfork"})
DECODED = FILE_CALLS | NET_CALLS | PROC_CALLS

#: strace options shared by learn and audit.
STRACE_ARGS = ("-ttt", "-Y", "-x", "--decode-fds=path,socket", "-s", "256",
               "-e", "raw=!" + ",".join(sorted(DECODED)))

_LINE = re.compile(r"^(?P<pid>\d+)(?:<(?P<comm>.*?)>)?\s+(?:(?P<ts>\d+\.\d+)\s+)?(?P<body>.*)$")
_CALL = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\(")
_RESUMED = re.compile(r"^<\.\.\. (?P<name>[A-Za-z_][A-Za-z0-9_]*) resumed>(?P<rest>.*)$")
_UNFINISHED = " <unfinished ...>"
_RET = re.compile(r"^(?P<val>-?\d+|0x[0-9a-fA-F]+|\?)(?:<(?P<deco>.*)>)?(?:\s+(?P<errno>E[A-Z0-9]+)\b.*)?\s*$")
_FDARG = re.compile(r"^(?P<fd>-?\d+|AT_FDCWD)(?:<(?P<deco>.*)>)?$")
_SOCKADDR = re.compile(r"\{sa_family=(?P<family>AF_[A-Z0-9]+)(?P<body>[^{}]*)\}")
_PORT = re.compile(r"sin6?_port=htons\((?P<port>\d+)\)")
_ADDR4 = re.compile(r'inet_addr\("(?P<addr>[^"]*)"\)')
_ADDR6 = re.compile(r'inet_pton\(AF_INET6, "(?P<addr>[^"]*)"')
_SUNPATH = re.compile(r'sun_path=(?P<at>@?)"(?P<path>(?:[^"\\]|\\.)*)"')
_FLAGS = re.compile(r"flags=(?P<flags>[A-Z0-9_|x]+)")

FAMILIES = {
    "AF_UNIX": "unix", "AF_LOCAL": "unix", "AF_INET": "inet", "AF_INET6": "inet6", "AF_NETLINK": "netlink",
    "AF_PACKET": "packet",
}
TYPES = {"SOCK_STREAM": "stream", "SOCK_DGRAM": "dgram", "SOCK_RAW": "raw", "SOCK_SEQPACKET": "seqpacket"}
# connect/bind outcomes that do not mean "it tried this endpoint"
_NOT_ATTEMPTS = frozenset({"EBADF", "ENOTSOCK", "EFAULT", "EINVAL", "EAFNOSUPPORT"})


def unescape(s: str) -> bytes:
    """strace's C-style string escapes (``\\x2f``, ``\\76``, ``\\"``, ``\\n``...) -> the raw bytes."""
    out = bytearray()
    i, n = 0, len(s)
    simple = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "a": 7, "b": 8, "\\": 92, '"': 34, "'": 39}
    while i < n:
        c = s[i]
        if c != "\\" or i + 1 >= n:
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        d = s[i + 1]
        if d == "x" and i + 3 < n + 1 and re.match(r"[0-9a-fA-F]{2}", s[i + 2:i + 4]):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif d in "01234567":
            j = i + 1
            while j < n and j < i + 4 and s[j] in "01234567":
                j += 1
            out.append(int(s[i + 1:j], 8) & 0xFF)
            i = j
        elif d in simple:
            out.append(simple[d])
            i += 2
        else:
            out += d.encode("utf-8", "surrogateescape")
            i += 2
    return bytes(out)


def decode_path(s: str) -> str:
    return os.fsdecode(unescape(s))


def split_args(text: str) -> tuple[list[str], str] | None:
    """``(args...) = ret`` -> ([arg, ...], ret text); None if it does not close."""
    args: list[str] = []
    depth, i, n, start = 0, 0, len(text), 0
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            continue
        if c == "<":  # fd decoration: up to the first unescaped '>' ('>' inside is escaped as \76)
            i += 1
            while i < n and text[i] != ">":
                i += 2 if text[i] == "\\" else 1
            i += 1
            continue
        if c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append(text[start:i].strip())
                rest = text[i + 1:].strip()
                if not rest.startswith("="):
                    return None
                return [a for a in args if a], rest[1:].strip()
            depth -= 1
        elif c == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
        i += 1
    return None


def _string(arg: str) -> str | None:
    """A quoted strace string argument (possibly followed by '...' when truncated)."""
    if arg.startswith('"'):
        end = arg.rfind('"')
        if end > 0:
            return decode_path(arg[1:end])
    return None


def _fd(arg: str) -> tuple[str, str | None]:
    """``3</path>`` / ``AT_FDCWD</cwd>`` -> ("3", "/path")."""
    m = _FDARG.match(arg.strip())
    if m is None:
        return arg, None
    deco = m.group("deco")
    return m.group("fd"), (_deco_path(deco) if deco is not None else None)


def _deco_path(deco: str) -> str | None:
    """The path in an fd decoration, or None for sockets, pipes, anon inodes."""
    if not deco.startswith("/") and not deco.startswith("\\x2f"):
        return None
    p = decode_path(deco)
    if p.endswith(" (deleted)"):
        p = p[: -len(" (deleted)")]
    return p if p.startswith("/") else None


@dataclass
class Agg:
    """How often something happened, and the first time: process (tgid), comm, unix time, thread."""

    count: int
    pid: int
    comm: str
    ts: float
    tid: int = 0


Key = tuple[str, str, str]  # (kind: file|tcp|udp|unix|socket, op, object)
PathAt = Callable[[str | None, str | None], str | None]  # (dirfd argument, path argument) -> absolute path
Emit = Callable[[str, str], None]


@dataclass
class Activity:
    """Everything :func:`parse` found: file and network events, aggregated, plus the syscall names."""

    syscalls: SyscallsObserved
    events: dict[Key, Agg] = field(default_factory=dict)
    pids: set[int] = field(default_factory=set)
    exe: dict[int, str] = field(default_factory=dict)  # process (tgid) -> last program it executed
    may_create: dict[str, Agg] = field(default_factory=dict)  # O_CREAT without O_EXCL: created if it was new
    tgid: dict[int, int] = field(default_factory=dict)  # thread id -> process id (strace -f prints thread ids)

    def process(self, tid: int) -> int:
        return self.tgid.get(tid, tid)

    def add(self, key: Key, tid: int, comm: str, ts: float) -> None:
        a = self.events.get(key)
        if a is None:
            self.events[key] = Agg(1, self.process(tid), comm, ts, tid)
        else:
            a.count += 1

    def paths(self, op: str) -> set[str]:
        return {obj for (kind, o, obj) in self.events if kind == "file" and o == op}


@dataclass
class _State:
    cwd: dict[int, str]
    initial_cwd: str
    parent_of: dict[int, int] = field(default_factory=dict)
    sock: dict[tuple[int, str], str] = field(default_factory=dict)  # (pid, fd) -> tcp/udp/unix

    def cwd_of(self, pid: int) -> str:
        if pid not in self.cwd:
            parent = self.parent_of.get(pid)
            self.cwd[pid] = self.cwd_of(parent) if parent is not None and parent != pid else self.initial_cwd
        return self.cwd[pid]


def _join(base: str | None, path: str) -> str:
    if path.startswith("/") or base is None:
        return posixpath.normpath(path) if path.startswith("/") else path
    return posixpath.normpath(posixpath.join(base, path))


def _open_flags(name: str, args: list[str]) -> str:
    if name == "creat":
        return "O_WRONLY|O_CREAT|O_TRUNC"
    if name == "openat2" and len(args) > 2:
        m = _FLAGS.search(args[2])
        return m.group("flags") if m else ""
    idx = 1 if name == "open" else 2
    return args[idx] if len(args) > idx else ""


def parse(
    lines: Iterable[str], *, native: str, cwd: str, exec_name: str = "", syscall_events: bool = False
) -> Activity:
    """File and network events per (kind, op, object) from ``strace -f`` output with :data:`STRACE_ARGS`.

    Objects: resolved absolute paths for files (relative ones against the process's tracked working
    directory), ``ADDR:PORT`` for tcp/udp, a path or ``@name`` for unix sockets, ``FAMILY/TYPE`` for
    ``socket``. Failed file operations are not events (nothing happened); network attempts are,
    whatever the peer answered. With ``syscall_events`` every traced syscall is also an event
    ``("syscall", name, name)`` (audit traces only the syscalls outside the profile).
    """
    from kubecis.seccomp.trace import parse_strace

    lines = list(lines)
    act = Activity(parse_strace(lines, native=native, exec_name=exec_name))
    st = _State(cwd={}, initial_cwd=cwd)
    pending: dict[int, str] = {}
    for raw in lines:
        m = _LINE.match(raw.rstrip("\n"))
        if m is None:
            continue
        pid = int(m.group("pid"))
        comm = m.group("comm") or ""
        if comm == "strace" and exec_name:
            comm = exec_name
        ts = float(m.group("ts") or 0.0)
        body = m.group("body")
        if body.startswith(("---", "+++", "[ Process")):
            continue
        act.pids.add(pid)
        rm = _RESUMED.match(body)
        if rm is not None:
            head = pending.pop(pid, None)
            if head is None:
                continue
            body = head + rm.group("rest")
        else:
            cm = _CALL.match(body)
            if cm is None:
                continue
            if syscall_events:
                act.add(("syscall", cm.group("name"), cm.group("name")), pid, comm, ts)
            if body.endswith(_UNFINISHED):
                if cm.group("name") in DECODED:
                    pending[pid] = body[: -len(_UNFINISHED)]
                continue
        cm = _CALL.match(body)
        if cm is None or cm.group("name") not in DECODED:
            continue
        split = split_args(body[cm.end():])
        if split is None:
            continue
        args, ret_text = split
        rmatch = _RET.match(ret_text)
        if rmatch is None:
            continue
        _event(act, st, cm.group("name"), args, rmatch, pid, comm, ts)
    return act


def _event(act: Activity, st: _State, name: str, args: list[str], ret: re.Match[str], pid: int, comm: str,
           ts: float) -> None:
    errno_name = ret.group("errno")
    ok = errno_name is None and ret.group("val") != "?"
    deco = ret.group("deco")

    def add(kind: str, op: str, obj: str) -> None:
        act.add((kind, op, obj), pid, comm, ts)

    def path_at(dirfd: str | None, p: str | None) -> str | None:
        if p is None:
            return None
        if p.startswith("/"):
            return posixpath.normpath(p)
        base = None
        if dirfd is not None:
            fd, dpath = _fd(dirfd)
            if fd == "AT_FDCWD":
                if dpath is not None:
                    st.cwd[pid] = dpath
                base = dpath or st.cwd_of(pid)
            else:
                base = dpath
        else:
            base = st.cwd_of(pid)
        return _join(base, p) if base is not None else None

    # keep the working directory current from any AT_FDCWD decoration
    for a in args[:1]:
        if a.startswith("AT_FDCWD<"):
            _, d = _fd(a)
            if d is not None:
                st.cwd[pid] = d

    if name in PROC_CALLS:
        if ok and ret.group("val").isdigit():
            child = int(ret.group("val"))
            st.parent_of[child] = pid
            st.cwd[child] = st.cwd_of(pid)
            if any("CLONE_THREAD" in a for a in args):
                act.tgid[child] = act.process(pid)
            else:
                act.tgid[child] = child
                if act.process(pid) in act.exe:
                    act.exe.setdefault(child, act.exe[act.process(pid)])
        return
    if name in ("open", "openat", "openat2", "creat"):
        flags = _open_flags(name, args)
        parts = set(flags.split("|"))
        if "O_PATH" in parts:
            return
        if not ok:
            return
        tmpfile = "O_TMPFILE" in parts or "__O_TMPFILE" in parts
        path = _deco_path(deco) if deco and not tmpfile else None  # O_TMPFILE: the argument is the directory
        if path is None:
            arg_path = _string(args[0] if name in ("open", "creat") else args[1] if len(args) > 1 else "")
            path = path_at(None if name in ("open", "creat") else args[0], arg_path)
        if path is None:
            return
        path = normalise_proc(path, act.pids)
        if tmpfile:
            add("file", "create", path.rstrip("/") + "/*")
            return
        wr = "O_WRONLY" in parts or "O_RDWR" in parts
        if "O_RDWR" in parts or not wr:
            add("file", "list" if "O_DIRECTORY" in parts else "read", path)
        if wr or "O_TRUNC" in parts:
            add("file", "write", path)
        if "O_CREAT" in parts:
            if "O_EXCL" in parts:
                add("file", "create", path)
            else:
                mc = act.may_create.get(path)
                if mc is None:
                    act.may_create[path] = Agg(1, act.process(pid), comm, ts, pid)
                else:
                    mc.count += 1
        return
    if name in ("chdir", "fchdir"):
        if not ok:
            return
        if name == "chdir":
            p = path_at(None, _string(args[0]) if args else None)
        else:
            _, p = _fd(args[0]) if args else ("", None)
        if p is not None:
            st.cwd[pid] = p
        return
    if name in ("execve", "execveat"):
        if not ok:
            return
        if name == "execve":
            p = path_at(None, _string(args[0]) if args else None)
        else:
            s = _string(args[1]) if len(args) > 1 else None
            p = path_at(args[0], s) if s else (_fd(args[0])[1] if args else None)
        if p is not None:
            act.exe[act.process(pid)] = p
            add("file", "execute", normalise_proc(p, act.pids))
        return
    if name in FILE_CALLS:
        if not ok:
            return
        _namespace_op(name, args, path_at, lambda op, p: add("file", op, normalise_proc(p, act.pids)))
        return
    _net_event(st, name, args, ret, errno_name, pid, add, path_at)


def _namespace_op(name: str, args: list[str], at: PathAt, emit: Emit) -> None:
    """mkdir/unlink/rename/link/symlink/mknod/truncate: create / remove / write events."""

    def s(i: int) -> str | None:
        return _string(args[i]) if len(args) > i else None

    def arg(i: int) -> str | None:
        return args[i] if len(args) > i else None

    def emit_at(op: str, p: str | None) -> None:
        if p is not None:
            emit(op, p)

    if name in ("mkdir", "mknod"):
        emit_at("create", at(None, s(0)))
    elif name in ("mkdirat", "mknodat"):
        emit_at("create", at(arg(0), s(1)))
    elif name in ("rmdir", "unlink"):
        emit_at("remove", at(None, s(0)))
    elif name == "unlinkat":
        emit_at("remove", at(arg(0), s(1)))
    elif name == "rename":
        emit_at("remove", at(None, s(0)))
        emit_at("create", at(None, s(1)))
    elif name in ("renameat", "renameat2"):
        emit_at("remove", at(arg(0), s(1)))
        emit_at("create", at(arg(2), s(3)))
    elif name == "link":
        emit_at("create", at(None, s(1)))
    elif name == "linkat":
        emit_at("create", at(arg(2), s(3)))
    elif name == "symlink":
        emit_at("create", at(None, s(1)))
    elif name == "symlinkat":
        emit_at("create", at(arg(1), s(2)))
    elif name == "truncate":
        emit_at("write", at(None, s(0)))


def _sockaddrs(text: str) -> list[tuple[str, str]]:
    return [(m.group("family"), m.group("body")) for m in _SOCKADDR.finditer(text)]


def _endpoint(family: str, body: str) -> tuple[str, str | int] | None:
    """("addr", port) for inet; ("unix", path or @name) for unix; None otherwise."""
    if family in ("AF_INET", "AF_INET6"):
        pm = _PORT.search(body)
        am = (_ADDR4 if family == "AF_INET" else _ADDR6).search(body)
        if pm is None or am is None:
            return None
        return am.group("addr"), int(pm.group("port"))
    if family in ("AF_UNIX", "AF_LOCAL"):
        sm = _SUNPATH.search(body)
        if sm is None:
            return None  # unnamed
        raw = unescape(sm.group("path"))
        if sm.group("at"):
            printable = "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02x}" for b in raw)
            return "unix", "@" + printable
        return "unix", os.fsdecode(raw)
    return None


def _proto_of_fd(st: _State, pid: int, arg: str) -> str | None:
    fd, _ = _fd(arg)
    m = re.match(r"^-?\d+<(?P<kind>[A-Za-z0-9-]+):", arg.strip())
    if m is not None:
        kind = m.group("kind").upper()
        if kind.startswith("TCP"):
            return "tcp"
        if kind.startswith("UDP"):
            return "udp"
        if kind.startswith("UNIX"):
            return "unix"
    return st.sock.get((pid, fd))


def _net_event(st: _State, name: str, args: list[str], ret: re.Match[str], errno_name: str | None,
               pid: int, emit: Callable[[str, str, str], None], at: PathAt) -> None:
    if name == "socket":
        if errno_name is not None or len(args) < 2:
            return
        fam = FAMILIES.get(args[0], "other")
        typ = TYPES.get(args[1].split("|")[0], "other")
        emit("socket", "create", f"{fam}/{typ}")
        val = ret.group("val")
        kind = {"stream": "tcp", "dgram": "udp"}.get(typ, "") if fam in ("inet", "inet6") else (
            "unix" if fam == "unix" else "")
        if kind and val.isdigit():
            st.sock[(pid, val)] = kind
        return
    if errno_name in _NOT_ATTEMPTS or not args:
        return
    if name == "bind" and errno_name is not None and errno_name not in ("EADDRINUSE", "EACCES"):
        return
    proto = _proto_of_fd(st, pid, args[0])
    rest = ", ".join(args[1:])
    for family, body in _sockaddrs(rest):
        ep = _endpoint(family, body)
        if ep is None:
            continue
        if ep[0] == "unix":
            target = str(ep[1])
            if not target.startswith("@"):
                resolved = at(None, target)
                if resolved is None:
                    continue
                target = resolved
            op = "bind" if name == "bind" else "connect"
            emit("unix", op, target)
            if op == "bind" and not target.startswith("@"):
                emit("file", "create", target)
            continue
        addr, port = str(ep[0]), int(ep[1])
        p = proto or ("tcp" if name == "connect" else "udp")
        if p not in ("tcp", "udp"):
            continue
        host = f"[{addr}]" if ":" in addr else addr
        if name == "bind":
            emit(p, "bind", f"{host}:{port}")
        elif p == "tcp":
            if name == "connect":
                emit("tcp", "connect", f"{host}:{port}")
        else:
            emit("udp", "send", f"{host}:{port}")


# ---- after the run: which O_CREAT opens created something -------------------------------------------------


class _StatxTimestamp(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_int64), ("tv_nsec", ctypes.c_uint32), ("pad", ctypes.c_int32)]


_STATX_BTIME = 0x800


@functools.cache
def _statx_fn() -> Callable[..., int] | None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fn = getattr(libc, "statx", None)
    if fn is None:
        return None
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    return cast("Callable[..., int]", fn)


def birth_time(path: str) -> float | None:
    """statx's btime (creation time) of ``path``, or None where the filesystem does not record it."""
    fn = _statx_fn()
    if fn is None:
        return None
    buf = ctypes.create_string_buffer(256)
    at_fdcwd, at_symlink_nofollow = -100, 0x100
    rc = fn(at_fdcwd, os.fsencode(path), at_symlink_nofollow, _STATX_BTIME, buf)
    if rc != 0:
        return None
    mask = struct.unpack_from("I", buf.raw, 0)[0]
    if not mask & _STATX_BTIME:
        return None
    sec, nsec = struct.unpack_from("qI", buf.raw, 80)
    return float(sec) + float(nsec) / 1e9


def resolve_creations(act: Activity, *, since: float) -> None:
    """Turn "opened with O_CREAT" into "created" when the file is gone, or was born after ``since``, or its
    birth time is unknown (the conservative choice for learning)."""
    for path, agg in act.may_create.items():
        if not os.path.lexists(path):
            created = True
        else:
            born = birth_time(path)
            created = born is None or born >= since - 1.0
        if created:
            key: Key = ("file", "create", path)
            if key in act.events:
                act.events[key].count += agg.count
            else:
                act.events[key] = Agg(agg.count, agg.pid, agg.comm, agg.ts, agg.tid)
    act.may_create.clear()


def resolve_executions(act: Activity) -> None:
    """Executed paths as the kernel checks them: symlinks followed (``venv/bin/python`` -> the interpreter)."""
    for (kind, op, obj), agg in list(act.events.items()):
        if kind == "file" and op == "execute":
            real = os.path.realpath(obj)
            if real != obj:
                del act.events[(kind, op, obj)]
                key: Key = ("file", "execute", real)
                if key in act.events:
                    act.events[key].count += agg.count
                else:
                    act.events[key] = agg


def reclassify_directories(act: Activity) -> None:
    """A directory opened for reading without O_DIRECTORY is a listing."""
    for (kind, op, obj), agg in list(act.events.items()):
        if kind == "file" and op == "read" and os.path.isdir(obj):
            del act.events[(kind, op, obj)]
            key: Key = ("file", "list", obj)
            if key in act.events:
                act.events[key].count += agg.count
            else:
                act.events[key] = agg


def interpreters(path: str) -> list[str]:
    """What the kernel also executes to run ``path``: its ELF interpreter (``PT_INTERP``) or ``#!`` line."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
            if head.startswith(b"#!"):
                line = head[2:].split(b"\n", 1)[0].strip()
                interp = line.split()[0] if line.split() else b""
                return [os.fsdecode(interp)] if interp.startswith(b"/") else []
            if head[:4] != b"\x7fELF" or len(head) < 64:
                return []
            is64, endian = head[4] == 2, "<" if head[5] == 1 else ">"
            if is64:
                phoff, = struct.unpack_from(endian + "Q", head, 32)
                phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
            else:
                phoff, = struct.unpack_from(endian + "I", head, 28)
                phentsize, phnum = struct.unpack_from(endian + "HH", head, 42)
            f.seek(phoff)
            table = f.read(phentsize * min(phnum, 256))
            for i in range(min(phnum, 256)):
                off = i * phentsize
                if off + phentsize > len(table):
                    break
                p_type, = struct.unpack_from(endian + "I", table, off)
                if p_type != 3:  # PT_INTERP
                    continue
                if is64:
                    p_offset, = struct.unpack_from(endian + "Q", table, off + 8)
                    p_filesz, = struct.unpack_from(endian + "Q", table, off + 32)
                else:
                    p_offset, = struct.unpack_from(endian + "I", table, off + 4)
                    p_filesz, = struct.unpack_from(endian + "I", table, off + 16)
                f.seek(p_offset)
                interp = f.read(min(p_filesz, 4096)).split(b"\0", 1)[0]
                return [os.fsdecode(interp)] if interp.startswith(b"/") else []
    except OSError:
        return []
    return []


def executed_programs(act: Activity) -> set[str]:
    """Executed paths resolved (symlinks followed, as the kernel checks them) plus their interpreters."""
    out: set[str] = set()
    todo = sorted(act.paths("execute"))
    seen: set[str] = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        real = os.path.realpath(p)
        out.add(real)
        todo += [i for i in interpreters(real) if i not in seen]
    return out


def describe_process(act: Activity, pid: int, comm: str) -> dict[str, object]:
    return {"pid": pid, "comm": comm, "exe": act.exe.get(pid, "")}


def trace_args(extra: Sequence[str] = ()) -> list[str]:
    return [*STRACE_ARGS, *extra]

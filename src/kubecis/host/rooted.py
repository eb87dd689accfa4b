"""A node's file system mounted somewhere else (``--root DIR``).

Every node path resolves inside DIR, symlinks included: an absolute target restarts at DIR, ``..``
never climbs above it, and procfs "magic" links (``/proc/PID/root``, ``exe``, ``cwd``, ``fd/N``) are
never followed (ELOOP, as ``RESOLVE_NO_MAGICLINKS`` says). Nothing is resolved by name outside the
kernel's view of DIR: DIR is held open as a directory file descriptor and every lookup is made
relative to it,

* with ``openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`` where the kernel has it (Linux 5.6+), or
* by an equivalent walk (one ``openat(O_PATH | O_NOFOLLOW)`` per component relative to the previous
  directory's descriptor; a symlink's text is read from its own descriptor and resolved again from
  DIR's descriptor) where it does not.

The last component is always opened by us, relative to its parent's descriptor and with
``O_NOFOLLOW``, after its type was checked on an ``O_PATH`` descriptor: a device node is never opened
(reading one gives ENXIO), a FIFO never blocks, and the object read is the one that was checked (same
device and inode), so renaming things inside DIR while kubecis reads it cannot redirect a read outside.

The process table comes from ``DIR/proc`` through the same descriptors; a process's own files
(``stat``, ``status``, ``cmdline``, ``environ``) must be the files themselves, never symlinks.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat as _stat
from typing import Literal

from kubecis.errors import HostError
from kubecis.host._fs import FSHost, ProcDir

_MAX_LINKS = 40
_O_CLOEXEC = os.O_CLOEXEC
_O_PATH = os.O_PATH | os.O_NOFOLLOW | _O_CLOEXEC
_O_PATH_DIR = os.O_PATH | os.O_DIRECTORY | _O_CLOEXEC
_O_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | _O_CLOEXEC

# openat2(2): the syscall number is the same on every architecture with the unified table (5.1+).
SYS_OPENAT2 = 437
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_IN_ROOT = 0x10
PROC_SUPER_MAGIC = 0x9FA0
_UNIFIED_TABLE = {"x86_64", "aarch64", "arm64", "ppc64le", "ppc64", "s390x", "riscv64", "loongarch64", "i686",
                  "i386", "armv7l", "armv8l"}

Resolver = Literal["auto", "openat2", "walk"]


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        lib = ctypes.CDLL(None, use_errno=True)
        lib.syscall.restype = ctypes.c_long
        lib.fstatfs.argtypes = (ctypes.c_int, ctypes.c_void_p)
        lib.fstatfs.restype = ctypes.c_int
        _libc = lib
    return _libc


def openat2(dirfd: int, path: str, flags: int, resolve: int) -> int:
    """``openat2(dirfd, path, {flags | O_CLOEXEC, 0, resolve})``; raises OSError (ENOSYS where missing)."""
    if os.uname().machine not in _UNIFIED_TABLE:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))
    how = _OpenHow(flags | _O_CLOEXEC, 0, resolve)
    raw = os.fsencode(path)
    lib = _lib()
    for _ in range(16):
        fd = int(lib.syscall(ctypes.c_long(SYS_OPENAT2), ctypes.c_int(dirfd), ctypes.c_char_p(raw),
                             ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how))))
        if fd >= 0:
            return fd
        err = ctypes.get_errno()
        if err not in (errno.EAGAIN, errno.EINTR):  # EAGAIN: a rename or mount raced RESOLVE_IN_ROOT
            raise OSError(err, os.strerror(err))
    raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))


def is_procfs(fd: int) -> bool:
    buf = ctypes.create_string_buffer(256)
    if _lib().fstatfs(fd, buf) != 0:
        return False
    return ctypes.c_long.from_buffer(buf).value == PROC_SUPER_MAGIC


def _magic(dirfd: int, target: str) -> bool:
    """A procfs magic link (its text is an absolute path or ``type:[inode]``; ``self``, ``thread-self``,
    ``mounts`` and ``net`` are ordinary relative symlinks)."""
    return (target.startswith("/") or ":" in target) and is_procfs(dirfd)


def _err(code: int, path: str = "") -> OSError:
    return OSError(code, os.strerror(code), path) if path else OSError(code, os.strerror(code))


def _close(*fds: int | None) -> None:
    for fd in fds:
        if fd is not None and fd >= 0:
            os.close(fd)


def _split(path: str) -> tuple[str, str | None]:
    """(parent, last name) of a node path; name None when the path names a directory by its form
    ("/", a trailing slash, a final "." or "..")."""
    if path.endswith("/"):
        return path, None
    parent, _, name = path.rpartition("/")
    if name in (".", ".."):
        return path, None
    return parent or ("/" if path.startswith("/") else "."), name


class _RootedProc(ProcDir):
    """``DIR/proc`` through descriptors: per-process files are opened relative to the process directory's
    descriptor with ``O_NOFOLLOW``; off procfs (a copied tree), only regular files are read."""

    def __init__(self, host: RootedHost, fd: int) -> None:
        super().__init__("/proc")
        self.host = host
        self.fd = fd
        self.procfs = is_procfs(fd)
        self._pid: tuple[str, int] | None = None

    def names(self) -> list[str]:
        dfd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | _O_CLOEXEC, dir_fd=self.fd)
        try:
            return os.listdir(dfd)
        finally:
            os.close(dfd)

    def _pid_fd(self, pid: str) -> int:
        if self._pid is not None and self._pid[0] == pid:
            return self._pid[1]
        if self._pid is not None:
            os.close(self._pid[1])
            self._pid = None
        if not pid.isdigit():
            raise _err(errno.ENOENT)
        fd = os.open(pid, _O_PATH | os.O_DIRECTORY, dir_fd=self.fd)  # a symlink: ENOTDIR
        self._pid = (pid, fd)
        return fd

    def read(self, name: str, pid: str | None = None) -> bytes:
        dirfd = self.fd if pid is None else self._pid_fd(pid)
        # procfs makes its own files (no device, FIFO or symlink can be planted there); a copied tree may hold any
        fd = os.open(name, _O_READ, dir_fd=dirfd) if self.procfs else self.host.reopen_checked(dirfd, name)
        try:
            return _read_all(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._pid is not None:
            os.close(self._pid[1])
            self._pid = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        try:
            b = os.read(fd, 1 << 20)
        except BlockingIOError:  # a FIFO without data
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


class RootedHost(FSHost):
    def __init__(self, root_dir: str, *, resolver: Resolver = "auto") -> None:
        try:
            fd = os.open(root_dir, _O_PATH_DIR)
        except OSError:
            raise HostError(f"root {root_dir!r} is not a directory") from None
        super().__init__(root_dir)
        self._fd = fd
        self.resolver: Resolver = "walk" if resolver == "walk" else "openat2"
        if resolver != "walk":
            try:
                os.close(openat2(fd, "/", _O_PATH_DIR, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS))
            except OSError as exc:
                if resolver == "openat2":
                    raise HostError(f"openat2 is not available: {exc.strerror}") from None
                self.resolver = "walk"  # ENOSYS (kernel < 5.6), EPERM/ENOSYS (a seccomp filter)...

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self.close()

    @property
    def name(self) -> str:
        for f in ("/etc/hostname",):
            try:
                text = self.read(f).decode("utf-8", "replace").strip()
            except OSError:
                continue
            if text:
                return text
        return self._root

    def getenv(self, name: str) -> str | None:
        return None

    # --- resolution -------------------------------------------------------------
    def _dirfd(self, path: str) -> int:
        """An O_PATH descriptor of the directory a node path names, every symlink resolved inside DIR."""
        if not path:
            raise _err(errno.ENOENT)
        if self.resolver == "openat2":
            return openat2(self._fd, path, _O_PATH_DIR, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
        return self._walk(path)

    def _walk(self, path: str) -> int:
        pending = [c for c in reversed(path.split("/")) if c and c != "."]
        stack: list[int] = []  # descriptors of the directories below DIR, outermost first
        links = 0
        try:
            while pending:
                comp = pending.pop()
                if comp == "..":
                    if stack:
                        os.close(stack.pop())
                    continue
                cur = stack[-1] if stack else self._fd
                try:
                    fd = os.open(comp, _O_PATH | os.O_DIRECTORY, dir_fd=cur)
                except NotADirectoryError:
                    st = os.stat(comp, dir_fd=cur, follow_symlinks=False)
                    if not _stat.S_ISLNK(st.st_mode):
                        raise
                    target = os.readlink(comp, dir_fd=cur)
                    if _magic(cur, target):
                        raise _err(errno.ELOOP) from None
                    links += 1
                    if links > _MAX_LINKS:
                        raise _err(errno.ELOOP) from None
                    if not target:
                        raise _err(errno.ENOENT) from None
                    if target.startswith("/"):
                        while stack:
                            os.close(stack.pop())
                    pending.extend(c for c in reversed(target.split("/")) if c and c != ".")
                    continue
                stack.append(fd)
            cur = stack[-1] if stack else self._fd
            return os.open(".", _O_PATH_DIR, dir_fd=cur)
        finally:
            while stack:
                os.close(stack.pop())

    def _lookup(self, path: str, follow: bool) -> tuple[int, os.stat_result, int | None, str]:
        """(O_PATH descriptor of the object, its stat, descriptor of its directory or None, its name).
        The caller closes both descriptors."""
        if not path:
            raise _err(errno.ENOENT)
        links = 0
        while True:
            parent, name = _split(path)
            if name is None:
                fd = self._dirfd(path)
                return fd, os.fstat(fd), None, ""
            pfd = self._dirfd(parent)
            try:
                fd = os.open(name, _O_PATH, dir_fd=pfd)
            except BaseException:
                os.close(pfd)
                raise
            try:
                st = os.fstat(fd)
                if not (follow and _stat.S_ISLNK(st.st_mode)):
                    return fd, st, pfd, name  # the caller owns both descriptors
                target = os.readlink("", dir_fd=fd)  # the text of the link we hold, not of whatever the name is now
                magic = _magic(pfd, target)
            except BaseException:
                _close(fd, pfd)
                raise
            _close(fd, pfd)
            if magic:
                raise _err(errno.ELOOP)
            links += 1
            if links > _MAX_LINKS:
                raise _err(errno.ELOOP)
            if not target:
                raise _err(errno.ENOENT)
            path = target if target.startswith("/") else f"{parent.rstrip('/')}/{target}"

    def reopen_checked(self, dirfd: int, name: str, st: os.stat_result | None = None) -> int:
        """Open ``name`` in ``dirfd`` for reading: a regular file or a FIFO (never a device), not a
        symlink, and the same object as ``st`` when given."""
        if st is None:
            pfd = os.open(name, _O_PATH, dir_fd=dirfd)
            try:
                st = os.fstat(pfd)
            finally:
                os.close(pfd)
        if _stat.S_ISDIR(st.st_mode):
            raise _err(errno.EISDIR)
        if _stat.S_ISLNK(st.st_mode):
            raise _err(errno.ELOOP)
        if not (_stat.S_ISREG(st.st_mode) or _stat.S_ISFIFO(st.st_mode)):
            raise _err(errno.ENXIO)  # a device node names one of this machine's devices, not the node's
        fd = os.open(name, _O_READ, dir_fd=dirfd)
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            os.close(fd)
            raise _err(errno.EAGAIN)  # replaced while we looked at it
        return fd

    # --- primitives -----------------------------------------------------------------
    def _stat(self, path: str, follow: bool) -> os.stat_result:
        fd, st, pfd, _ = self._lookup(path, follow)
        _close(fd, pfd)
        return st

    def _open_read(self, path: str) -> int:
        for attempt in range(3):
            fd, st, pfd, name = self._lookup(path, True)
            try:
                if pfd is None:
                    raise _err(errno.EISDIR)
                return self.reopen_checked(pfd, name, st)
            except BlockingIOError:
                if attempt == 2:
                    raise
            finally:
                _close(fd, pfd)
        raise _err(errno.EAGAIN)  # pragma: no cover - the loop returns or raises

    def _read(self, path: str) -> bytes:
        fd = self._open_read(path)
        try:
            return _read_all(fd)
        finally:
            os.close(fd)

    def _listdir(self, path: str) -> list[str]:
        fd, st, pfd, _ = self._lookup(path, True)
        try:
            if not _stat.S_ISDIR(st.st_mode):
                raise _err(errno.ENOTDIR)
            dfd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | _O_CLOEXEC, dir_fd=fd)
            try:
                return os.listdir(dfd)
            finally:
                os.close(dfd)
        finally:
            _close(fd, pfd)

    def _readlink(self, path: str) -> str:
        parent, name = _split(path)
        if name is None:
            raise _err(errno.EINVAL)
        pfd = self._dirfd(parent)
        try:
            return os.readlink(name, dir_fd=pfd)
        finally:
            os.close(pfd)

    def _proc_dir(self) -> ProcDir:
        return _RootedProc(self, self._dirfd("/proc"))

"""Private directories: caches and temporary files that no other user can have prepared or can change.

kubecis runs as root. A directory it reuses (the bundled definitions' cache) or writes secrets into
(a client key for the API server) must not be one another user created or can rename, or root would
read that user's files as its own definitions, or write a key where that user can read it. The rules:

- every directory on the way, from ``/``, is owned by root or by the effective user and is not group-
  or other-writable, except that a sticky directory such as ``/tmp`` may be crossed (nobody else can
  rename or remove what the effective user owns there); a symbolic link on the way is followed only
  when the directory holding it passed that test (then only a trusted user can have made it), and its
  target is checked the same way;
- the directory itself (and everything below it, for a cache tree) is owned by the effective user, is not
  group- or other-writable, and holds only directories and regular files (never a link);
- missing components are created one at a time with mode 0700 and checked after creation (an entry
  someone else created first is refused, never adopted).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from kubecis.errors import HostError

MAX_LINKS = 40


class UnsafeDirError(HostError, OSError):
    """A directory that another user may have prepared or may change; ``str()`` says which and why."""


def cache_root() -> Path | None:
    """``$XDG_CACHE_HOME/kubecis`` (only an absolute XDG_CACHE_HOME, as the XDG spec says), else
    ``~/.cache/kubecis``; None when there is no absolute home directory."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "kubecis"
    home = os.path.expanduser("~")
    return Path(home) / ".cache" / "kubecis" if os.path.isabs(home) else None


def _describe(st: os.stat_result) -> str:
    return f"owner uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):04o}"


def _check_crossed(path: str, st: os.stat_result, euid: int) -> None:
    """A directory on the way: owned by root or the effective user; writable by others only when sticky."""
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDirError(f"{path}: not a directory")
    if st.st_uid not in (0, euid):
        raise UnsafeDirError(f"{path}: owned by another user ({_describe(st)})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
        raise UnsafeDirError(f"{path}: writable by other users ({_describe(st)})")


def _check_own(path: str, st: os.stat_result, euid: int) -> None:
    """An entry of our own: not a link, owned by the effective user, not group- or other-writable."""
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeDirError(f"{path}: is a symbolic link")
    if st.st_uid != euid:
        raise UnsafeDirError(f"{path}: not owned by uid {euid} ({_describe(st)})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeDirError(f"{path}: writable by other users ({_describe(st)})")


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def resolve_trusted(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """Walk ``path`` from ``/`` as described in the module docstring.

    Returns the real path of its longest existing prefix and the names still missing below it. Raises
    :class:`UnsafeDirError` when a directory on the way (the existing prefix included) fails the test; the
    caller checks the last one further when it must be its own.
    """
    euid = os.geteuid()
    todo = _parts(os.path.abspath(os.fspath(path)))
    cur = "/"
    _check_crossed(cur, os.lstat(cur), euid)
    links = 0
    while todo:
        name = todo.pop(0)
        if name == "..":
            cur = os.path.dirname(cur)
            continue
        nxt = os.path.join(cur, name)
        try:
            st = os.lstat(nxt)
        except FileNotFoundError:
            return cur, [name, *todo]
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > MAX_LINKS:
                raise UnsafeDirError(f"{nxt}: too many levels of symbolic links")
            target = os.readlink(nxt)  # ``cur`` is trusted: only a trusted user can have made this link
            if target.startswith("/"):
                cur = "/"
            todo = _parts(target) + todo
            continue
        _check_crossed(nxt, st, euid)
        cur = nxt
    return cur, []


def private_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a directory only the effective user can change (created 0700 where missing); its real path.

    Raises :class:`UnsafeDirError` (an ``OSError``) when that cannot be guaranteed, or another ``OSError``
    when a directory cannot be created.
    """
    euid = os.geteuid()
    cur, missing = resolve_trusted(path)
    for name in missing:
        nxt = os.path.join(cur, name)
        with contextlib.suppress(FileExistsError):  # created meanwhile: checked below, never adopted blindly
            os.mkdir(nxt, 0o700)
        st = os.lstat(nxt)
        _check_own(nxt, st, euid)
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeDirError(f"{nxt}: not a directory")
        cur = nxt
    _check_own(cur, os.lstat(cur), euid)
    return Path(cur)


def check_entry(entry: os.DirEntry[str]) -> os.stat_result:
    """One entry of a private tree: a directory or regular file owned by the effective user and not group- or
    other-writable. Returns its ``lstat``; raises :class:`UnsafeDirError`."""
    st = entry.stat(follow_symlinks=False)
    _check_own(entry.path, st, os.geteuid())
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        raise UnsafeDirError(f"{entry.path}: neither a directory nor a regular file")
    return st


def private_tempdir(prefix: str = "kubecis-") -> Path:
    """A new directory (mode 0700) under the system temp dir, which must pass :func:`resolve_trusted`."""
    import tempfile

    base = tempfile.gettempdir()
    cur, missing = resolve_trusted(base)
    if missing:
        raise FileNotFoundError(2, "No such file or directory", base)
    made = tempfile.mkdtemp(prefix=prefix, dir=cur)
    _check_own(made, os.lstat(made), os.geteuid())
    return Path(made)

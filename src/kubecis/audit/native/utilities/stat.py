"""``stat -c FORMAT``: GNU coreutils' stat (``%a %A %U %G %u %g %n %s %F %h %i %f``).
"""

from __future__ import annotations

import stat as _stat

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.common import (
    errstr,
    shell_quote_always,
)
from kubecis.host.base import FileStat, Host, NotInSnapshot

__all__ = ["owner_name", "stat_format", "u_stat"]


_FTYPE = [
    (_stat.S_ISREG, "regular file"),
    (_stat.S_ISDIR, "directory"),
    (_stat.S_ISLNK, "symbolic link"),
    (_stat.S_ISCHR, "character special file"),
    (_stat.S_ISBLK, "block special file"),
    (_stat.S_ISFIFO, "fifo"),
    (_stat.S_ISSOCK, "socket"),
]


def _ftype(st: FileStat) -> str:
    for test, name in _FTYPE:
        if test(st.mode):
            if name == "regular file" and st.size == 0:
                return "regular empty file"
            return name
    return "weird file"


def _name_problem(host: Host, user: bool, num: int) -> str:
    """Why a uid (gid) has no name on the node."""
    db, what = ("/etc/passwd", f"owner uid {num}") if user else ("/etc/group", f"group gid {num}")
    try:
        host.read(db)
    except OSError as exc:
        return f"cannot resolve {what}: cannot read {db}: {errstr(exc)}"
    except NotInSnapshot:
        return f"cannot resolve {what}: {db} was not recorded"
    return f"cannot resolve {what}: no {'user' if user else 'group'} with that id in {db}"


def owner_name(ctx: Ctx, num: int, *, user: bool) -> str:
    """The user (group) name GNU stat prints for an id, UNKNOWN when there is none; an UNKNOWN is noted as an
    unavailable fact, so the check is WARN with the reason instead of comparing "UNKNOWN" with anything."""
    name = ctx.host.user_name(num) if user else ctx.host.group_name(num)
    if name is not None:
        return name
    key = ("uid" if user else "gid", num)
    if key not in ctx.audit.facts:
        ctx.audit.facts[key] = _name_problem(ctx.host, user, num)
    return "UNKNOWN"


def stat_format(ctx: Ctx, fmt: str, name: str, st: FileStat) -> str:
    out: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%" or i + 1 >= len(fmt):
            out.append(c)
            i += 1
            continue
        d = fmt[i + 1]
        i += 2
        if d == "a":
            out.append(format(st.mode & 0o7777, "o"))
        elif d == "A":
            out.append(_stat.filemode(st.mode))
        elif d == "U":
            out.append(owner_name(ctx, st.uid, user=True))
        elif d == "G":
            out.append(owner_name(ctx, st.gid, user=False))
        elif d == "u":
            out.append(str(st.uid))
        elif d == "g":
            out.append(str(st.gid))
        elif d == "n":
            out.append(name)
        elif d == "s":
            out.append(str(st.size))
        elif d == "F":
            out.append(_ftype(st))
        elif d == "h":
            out.append(str(st.nlink))
        elif d == "i":
            out.append(str(st.ino))
        elif d == "f":
            out.append(format(st.mode, "x"))
        elif d == "%":
            out.append("%")
        else:
            raise Unsupported(f"stat format %{d}")
    return "".join(out)


def u_stat(ctx: Ctx, args: list[str]) -> int:
    fmt: str | None = None
    follow = False
    files: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            files.extend(args[i + 1 :])
            break
        if a in ("-c", "--format"):
            if i + 1 >= len(args):
                raise Unsupported("stat -c without argument")
            fmt = args[i + 1]
            i += 2
            continue
        if a.startswith("--format="):
            fmt = a[len("--format=") :]
        elif a.startswith("-c") and len(a) > 2:
            fmt = a[2:]
        elif a in ("-L", "--dereference"):
            follow = True
        elif a.startswith("-") and a != "-":
            raise Unsupported(f"stat {a}")
        else:
            files.append(a)
        i += 1
    if fmt is None:
        raise Unsupported("stat without -c")
    if not files:
        ctx.error("missing operand\nTry 'stat --help' for more information.")
        return 1
    status = 0
    for f in files:
        try:
            st = ctx.host.stat(ctx.path(f), follow_symlinks=follow)
        except OSError as exc:
            ctx.error(f"cannot statx {shell_quote_always(f)}: {errstr(exc)}")
            status = 1
            continue
        ctx.write(stat_format(ctx, fmt, f, st) + "\n")
    return status

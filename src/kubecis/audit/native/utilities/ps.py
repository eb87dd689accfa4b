"""``ps``: procps-ng 4's ps in the forms audits use (``-e``, ``-f``, ``-C``, ``-p``, ``-o``, ``--no-headers``).

Command lines and names are escaped as procps does in the audit's locale (:mod:`kubecis.audit.native.procps`).
"""

from __future__ import annotations

import re
import weakref

from kubecis.audit.native import procps
from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import dec, enc
from kubecis.host.base import NotInSnapshot, Process

__all__ = ["u_ps"]


_PS_FIELDS = {
    "pid": ("PID", "r"),
    "ppid": ("PPID", "r"),
    "cmd": ("CMD", "l"),
    "args": ("COMMAND", "l"),
    "command": ("COMMAND", "l"),
    "comm": ("COMMAND", "l"),
    "ucmd": ("CMD", "l"),
    "uid": ("UID", "r"),
    "euid": ("EUID", "r"),
    "user": ("USER", "l"),
    "euser": ("EUSER", "l"),
}


def _ps_text(b: bytes) -> str:
    return dec(b)


def _ps_cmd(p: Process, loc: str | None) -> str:
    """``args``/``cmd``: the command line as procps escapes it in the audit's locale (see procps.py)."""
    if all(a.isascii() and a.isprintable() for a in p.cmdline) and p.comm.isascii() and p.comm.isprintable():
        if not p.cmdline:
            return f"[{p.comm}]"
        args = list(p.cmdline)
        while args and not args[-1]:  # trailing empty arguments are trailing NULs: procps drops them
            args.pop()
        return " ".join(args) or "?"
    return _ps_text(procps.escape_cmdline([enc(a) for a in p.cmdline], enc(p.comm), loc))


def _ps_comm(p: Process, loc: str | None) -> str:
    if p.comm.isascii() and p.comm.isprintable():
        return p.comm
    return _ps_text(procps.escape_comm(enc(p.comm), loc))


def _locale_env(ctx: Ctx, name: str) -> str | None:
    try:
        return ctx.env(name)
    except NotInSnapshot:  # recorded before ps looked at its locale: unset, as ps was then rendered (C)
        return None


def _pid_width(ctx: Ctx) -> int:
    try:
        text = ctx.host.read("/proc/sys/kernel/pid_max").decode().strip()
        return max(5, len(text))
    except (OSError, ValueError, UnicodeDecodeError):
        return 5


def _user_col(ctx: Ctx, uid: int, width: int, loc: str | None) -> str:
    name = ctx.host.user_name(uid)
    if name is None:
        return str(uid)
    if not (name.isascii() and name.isprintable()):
        name = _ps_text(procps.escape_name(enc(name), loc))
    return name if len(name) <= width else name[: width - 1] + "+"


_PS_MEMO: weakref.WeakKeyDictionary[object, dict[tuple[str, ...], tuple[str, bool]]] = weakref.WeakKeyDictionary()


def _memo_for(host: object) -> dict[tuple[str, ...], tuple[str, bool]] | None:
    try:
        return _PS_MEMO.setdefault(host, {})
    except TypeError:  # not weak-referenceable: no memo
        return None


def u_ps(ctx: Ctx, args: list[str]) -> int:
    every = full = False
    names: list[str] | None = None
    pids: list[int] | None = None
    fmt: list[str] = []
    headers = True
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--no-headers", "--no-heading", "--noheaders", "--noheading"):
            headers = False
            i += 1
            continue
        if a.startswith("--") or not a.startswith("-") or a == "-":
            raise Unsupported(f"ps {a}")
        j = 1
        while j < len(a):
            c = a[j]
            if c in "eA":
                every = True
            elif c == "f":
                full = True
            elif c in "Cop":
                val = a[j + 1 :]
                if not val:
                    i += 1
                    if i >= len(args):
                        if c == "C":
                            ctx.err.write(
                                b"error: list of command names must follow -C\n\nUsage:\n ps [options]\n\n"
                                b" Try 'ps --help <simple|list|output|threads|misc|all>'\n"
                                b"  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\n"
                                b"For more details see ps(1).\n"
                            )
                            return 1
                        raise Unsupported(f"ps -{c} without argument")
                    val = args[i]
                if c == "C":
                    names = (names or []) + [n for n in re.split(r"[ ,]", val) if n]
                elif c == "p":
                    try:
                        pids = (pids or []) + [int(n) for n in re.split(r"[ ,]", val) if n]
                    except ValueError:
                        raise Unsupported("ps -p with a non-numeric list") from None
                else:
                    fmt.append(val)
                break
            else:
                raise Unsupported(f"ps -{c}")
            j += 1
        i += 1
    if full and fmt:
        raise Unsupported("ps -f with -o")
    if not every and names is None and pids is None:
        raise Unsupported("ps without a selection (depends on the terminal)")
    # The host's process table is fixed for a run (hosts read it once), so identical `ps` invocations
    # print identical text; audits repeat `ps -ef` dozens of times over hundreds of processes.
    loc = procps.ps_locale_utf8(lambda name: _locale_env(ctx, name))  # ps escapes command lines for its locale
    memo_key = (*args, "\0", loc or "")
    memo = _memo_for(ctx.host)
    if memo is not None and memo_key in memo:
        text, found = memo[memo_key]
        ctx.write(text)
        return 0 if found else 1
    procs = ctx.host.processes()
    if not every:
        sel: list[Process] = []
        for p in procs:
            by_name = names is not None and any(p.comm[:15] == n[:15] for n in names)  # procps 4 compares 15
            if by_name or (pids is not None and p.pid in pids):
                sel.append(p)
        procs = sel
    pw = _pid_width(ctx)
    lines: list[str] = []
    user_cols: dict[tuple[int, int], str] = {}

    def user_col(uid: int, width: int) -> str:  # a few uids own hundreds of processes
        key = (uid, width)
        if key not in user_cols:
            user_cols[key] = _user_col(ctx, uid, width, loc)
        return user_cols[key]

    if not fmt:
        if full:
            if headers:
                lines.append(
                    f"{'UID':<8} {'PID':>{pw}} {'PPID':>{pw}}  C STIME TTY      {'TIME':>8} CMD"
                )
            for p in procs:
                lines.append(
                    f"{user_col(p.uid, 8):<8} {p.pid:>{pw}} {p.ppid:>{pw}} {p.pcpu:>2} "
                    f"{p.start:<5} {p.tty:<8} {p.time:>8} {_ps_cmd(p, loc)}"
                )
        else:
            if headers:
                lines.append(f"{'PID':>{pw}} TTY      {'TIME':>8} CMD")
            for p in procs:
                lines.append(f"{p.pid:>{pw}} {p.tty:<8} {p.time:>8} {_ps_comm(p, loc)}")
    else:
        cols: list[tuple[str, str]] = []
        for spec in fmt:
            for item in re.split(r"[ ,]", spec):
                if not item:
                    continue
                key, eq, hdr = item.partition("=")
                if key not in _PS_FIELDS:
                    raise Unsupported(f"ps -o {key}")
                cols.append((key, hdr if eq else _PS_FIELDS[key][0]))

        def cell(p: Process, key: str) -> str:
            if key in ("pid", "ppid"):
                return str(p.pid if key == "pid" else p.ppid)
            if key in ("cmd", "args", "command"):
                return _ps_cmd(p, loc)
            if key in ("comm", "ucmd"):
                return _ps_comm(p, loc)
            if key in ("uid", "euid"):
                return str(p.uid)
            return user_col(p.uid, 8)

        def width(key: str, hdr: str) -> int:
            if key in ("pid", "ppid"):
                return max(pw, len(hdr))
            if key in ("uid", "euid"):
                return max(5, len(hdr))
            if key in ("user", "euser"):
                return max(8, len(hdr))
            return len(hdr)

        def render(values: list[str]) -> str:
            parts = []
            for k, ((key, hdr), v) in enumerate(zip(cols, values, strict=True)):
                w = width(key, hdr)
                last = k == len(cols) - 1
                if _PS_FIELDS[key][1] == "r":
                    parts.append(v.rjust(w))
                else:
                    parts.append(v if last else v.ljust(w))
            return " ".join(parts)

        if headers and any(h for _, h in cols):
            lines.append(render([h for _, h in cols]))
        for p in procs:
            lines.append(render([cell(p, key) for key, _ in cols]))
    text = "".join(line + "\n" for line in lines)
    if memo is not None:
        memo[memo_key] = (text, bool(procs))
    ctx.write(text)
    return 0 if procs else 1

"""GNU/procps utilities in the forms benchmark audits use.

Each utility takes a :class:`Ctx` and its arguments and returns an exit status,
writing output and GNU-identical error messages (C locale) to the context.
Options outside the implemented set raise :class:`Unsupported`.
"""

from __future__ import annotations

import re
import stat as _stat
import weakref
from collections.abc import Callable, Iterator

from kubecis.audit.native import procps
from kubecis.audit.native.builtins import echo_escapes, printf_format
from kubecis.audit.native.helpers import u_check_files_owner_in_dir
from kubecis.audit.native.interp import (
    Ctx,
    NotInSnapshot,
    Out,
    Stream,
    TextSink,
    ascii_uint,
    check_size,
    dec,
    enc,
    unavailable,
)
from kubecis.audit.native.journal import u_journalctl
from kubecis.audit.native.jq import u_jq
from kubecis.audit.native.kubectl import u_kubectl, u_oc
from kubecis.audit.native.openssl import u_openssl
from kubecis.audit.native.parser import Unsupported
from kubecis.audit.native.probe import u_kubecis
from kubecis.audit.native.regex import RegexError, compile_posix, glob_to_regex
from kubecis.host.base import FileStat, Host, Process

Utility = Callable[[Ctx, list[str]], int]


def _errstr(exc: OSError) -> str:
    return exc.strerror or "Input/output error"


def shell_quote_always(name: str) -> str:
    """GNU quoting style ``shell-escape-always`` (stat, ls errors)."""
    if "'" not in name:
        return f"'{name}'"
    if not any(c in name for c in '"$`\\'):
        return f'"{name}"'
    return "'" + name.replace("'", "'\\''") + "'"


def shell_quote(name: str) -> str:
    """GNU ``shell-escape`` quoting: only when needed (cat, head... error messages)."""
    if name and re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", name):
        return name
    return shell_quote_always(name)


def _read_input(ctx: Ctx, name: str) -> bytes:
    if name == "-":
        return ctx.stdin.read_all()
    return ctx.host.read(ctx.path(name))


def _lines(data: bytes) -> list[bytes]:
    """Lines without their terminators (a final unterminated line counts)."""
    if not data:
        return []
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    return parts


def _short_opts(
    args: list[str], with_arg: str, flags: str, prog: str, order: list[tuple[str, str]] | None = None
) -> tuple[dict[str, list[str]], list[str]]:
    """Parse -abc / -o VAL / -oVAL style options; stops at '--' or first operand (GNU permutes: we don't).

    ``order``, when given, receives every option with an argument as (letter, value) in command-line order.
    """
    opts: dict[str, list[str]] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i + 1 :])
            break
        if a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            j = 1
            while j < len(a):
                c = a[j]
                if c in with_arg:
                    val = a[j + 1 :]
                    if not val:
                        i += 1
                        if i >= len(args):
                            raise Unsupported(f"{prog}: option -{c} without argument")
                        val = args[i]
                    opts.setdefault(c, []).append(val)
                    if order is not None:
                        order.append((c, val))
                    break
                if c in flags:
                    opts.setdefault(c, []).append("")
                    j += 1
                    continue
                if c in "0123456789" and "#" in flags:
                    m = re.match(r"[0-9]+", a[j:])
                    assert m
                    opts.setdefault("#", []).append(m.group(0))
                    j += m.end()
                    continue
                raise Unsupported(f"{prog} -{c}")
            i += 1
            continue
        if a.startswith("--"):
            raise Unsupported(f"{prog} {a}")
        rest.append(a)
        i += 1
    return opts, rest


# --- paste ---------------------------------------------------------------------


def u_paste(ctx: Ctx, args: list[str]) -> int:
    """``paste -s [-d LIST] [FILE|-]...``: each file's lines joined by the (cycled) delimiters."""
    opts, rest = _short_opts(args, "d", "s", "paste")
    if "s" not in opts:
        raise Unsupported("paste without -s")
    delims = opts.get("d", ["\t"])[-1]
    if not delims or "\\" in delims:
        raise Unsupported("paste -d with escapes or an empty list")
    status = 0
    for name in rest or ["-"]:
        try:
            data = _read_input(ctx, name)
        except OSError as exc:
            ctx.error(f"{shell_quote(name)}: {_errstr(exc)}")
            status = 1
            continue
        lines = _lines(data)
        out: list[bytes] = []
        for k, line in enumerate(lines):
            if k:
                out.append(enc(delims[(k - 1) % len(delims)]))
            out.append(line)
        ctx.write(b"".join(out) + b"\n")
    return status


# --- cat -----------------------------------------------------------------------


def u_cat(ctx: Ctx, args: list[str]) -> int:
    _opts, files = _short_opts(args, "", "u", "cat")
    status = 0
    for f in files or ["-"]:
        try:
            ctx.write(_read_input(ctx, f))
        except IsADirectoryError:
            ctx.error(f"{shell_quote(f)}: Is a directory")
            status = 1
        except OSError as exc:
            ctx.error(f"{shell_quote(f)}: {_errstr(exc)}")
            status = 1
    return status


# --- echo / printf / true / false / basename / dirname ----------------------------


def u_echo(ctx: Ctx, args: list[str]) -> int:
    newline, interp = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for c in args[0][1:]:
            newline = newline and c != "n"
            interp = True if c == "e" else False if c == "E" else interp
        args = args[1:]
    text = " ".join(args)
    if interp:
        text, stop = echo_escapes(text)
        newline = newline and not stop
    ctx.write(text + ("\n" if newline else ""))
    return 0


def u_printf(ctx: Ctx, args: list[str]) -> int:
    if not args:
        ctx.error("missing operand\nTry 'printf --help' for more information.")
        return 1
    text, ok = printf_format(args[0], args[1:])
    ctx.write(text)
    return 0 if ok else 1


def u_true(ctx: Ctx, args: list[str]) -> int:
    return 0


def u_false(ctx: Ctx, args: list[str]) -> int:
    return 1


def u_basename(ctx: Ctx, args: list[str]) -> int:
    if not args or args[0].startswith("-") or len(args) > 2:
        raise Unsupported("basename form")
    p = args[0].rstrip("/") or ("/" if args[0] else "")
    b = p.rsplit("/", 1)[-1] if p != "/" else "/"
    if len(args) == 2 and b.endswith(args[1]) and b != args[1]:
        b = b[: -len(args[1])]
    ctx.write(b + "\n")
    return 0


def u_dirname(ctx: Ctx, args: list[str]) -> int:
    if not args or any(a.startswith("-") for a in args):
        raise Unsupported("dirname form")
    for a in args:
        p = a.rstrip("/")
        if not p:
            d = "/" if a else "."
        elif "/" not in p:
            d = "."
        else:
            d = p.rsplit("/", 1)[0].rstrip("/") or "/"
        ctx.write(d + "\n")
    return 0


# --- ps --------------------------------------------------------------------------

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
        return ctx.shell.env_value(name)
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


# --- grep ------------------------------------------------------------------------


_GNU_RX_ERRORS = {
    "trailing backslash": "Trailing backslash",
    "unmatched ) or \\)": "Unmatched ) or \\)",
    "unmatched ( or \\(": "Unmatched ( or \\(",
    "unbalanced [": "Unmatched [, [^, [:, [., or [=",
    "invalid range end": "Invalid range end",
    "unmatched \\{": "Unmatched \\{",
    "invalid content of \\{\\}": "Invalid content of \\{\\}",
    "invalid character class": "Invalid character class name",
    "regular expression too big": "Regular expression too big",
}


_NO_COLOUR = {"--color", "--colour", "--color=auto", "--colour=auto", "--color=never", "--colour=never"}
_INTMAX = (1 << 63) - 1
_C_SPACE = " \t\n\v\f\r"


def _xstrtoimax(text: str) -> int | None:
    """gnulib ``xstrtoimax(text, NULL, 10, &v, "")``: decimal, leading C blanks and a sign allowed,
    nothing after the digits; out of range clamps (LONGINT_OVERFLOW). None when invalid."""
    body = text.lstrip(_C_SPACE)
    if not re.fullmatch(r"[+-]?[0-9]+", body):
        return None
    negative = body.startswith("-")
    digits = body.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 19:  # beyond intmax_t whatever the digits (and beyond Python's int() digit limit)
        return -_INTMAX - 1 if negative else _INTMAX
    value = -int(digits) if negative else int(digits)
    return max(-_INTMAX - 1, min(_INTMAX, value))


def u_grep(ctx: Ctx, args: list[str]) -> int:
    if "--" in args:
        k = args.index("--")
        args = [a for a in args[:k] if a not in _NO_COLOUR] + args[k:]
    else:
        args = [a for a in args if a not in _NO_COLOUR]  # --color=auto: no colour when not on a terminal
    ordered: list[tuple[str, str]] = []
    opts, rest = _short_opts(args, "eABCm", "vEFGoicqswxnhHly", "grep", ordered)
    # numeric arguments are checked while GNU grep parses its options: before anything else, in order
    for c, v in ordered:
        n = _xstrtoimax(v)
        if c == "A" and (n is None or n < 0):
            ctx.error(f"{v}: invalid context length argument")
            return 2
        if c == "m" and n is None:
            ctx.error("invalid max count")
            return 2
    patterns: list[str] = []
    for p in opts.get("e", []):
        patterns.extend(p.split("\n"))
    if "e" not in opts:
        if not rest:
            ctx.err.write(enc(f"Usage: {ctx.prog} [OPTION]... PATTERNS [FILE]...\n"
                              f"Try '{ctx.prog} --help' for more information.\n"))
            return 2
        patterns.extend(rest[0].split("\n"))
        rest = rest[1:]
    files = rest or ["-"]
    invert = "v" in opts
    icase = "i" in opts or "y" in opts
    only = "o" in opts
    count = "c" in opts
    quiet = "q" in opts
    silent = "s" in opts
    after = (_xstrtoimax(opts["A"][-1]) or 0) if "A" in opts else 0
    if "B" in opts or "C" in opts or "n" in opts or "l" in opts:
        raise Unsupported("grep -B/-C/-n/-l")
    maxc = (_xstrtoimax(opts["m"][-1]) or 0) if "m" in opts else -1
    if maxc < 0:
        maxc = -1  # GNU grep 3.8: a negative max count means no limit
    try:
        if "F" in opts:
            rx_src = "|".join(re.escape(p) for p in patterns)
            rx = re.compile(rx_src, (re.I if icase else 0) | re.ASCII)
        else:
            ext = "E" in opts
            pieces = [compile_posix(p, ext, icase).pattern for p in patterns]
            rx = re.compile("|".join(f"(?:{p})" for p in pieces), (re.I if icase else 0) | re.ASCII)
    except RegexError as exc:
        msg = _GNU_RX_ERRORS.get(str(exc))
        if msg is None:
            raise Unsupported(f"grep pattern: {exc}") from None
        ctx.error(msg)
        return 2
    if "w" in opts:
        rx = re.compile(rf"(?<!\w)(?:{rx.pattern})(?!\w)", rx.flags)
    if "x" in opts:
        rx = re.compile(rf"^(?:{rx.pattern})$", rx.flags)
    show_name = ("H" in opts or len(files) > 1) and "h" not in opts
    status = 1
    error = False
    for f in files:
        label = "(standard input)" if f == "-" else f
        try:
            data = _read_input(ctx, f)
        except IsADirectoryError:
            if not silent:
                ctx.error(f"{f}: Is a directory")
            error = True
            continue
        except OSError as exc:
            if not silent:
                ctx.error(f"{f}: {_errstr(exc)}")
            error = True
            continue
        binary = b"\0" in data
        prefix = f"{label}:" if show_name else ""
        n = 0
        last_printed = -1
        pending_after = 0
        lines = _lines(data)
        out = TextSink()
        for idx, raw in enumerate(lines):
            line = dec(raw)
            m_any = rx.search(line) is not None
            selected = m_any != invert
            if selected and maxc >= 0 and n >= maxc:
                if pending_after > 0:
                    pass
                else:
                    break
            if selected and not (maxc >= 0 and n >= maxc):
                n += 1
                status = 0
                if quiet:
                    return 0
                if count:
                    continue
                if binary:
                    ctx.write("".join(out))
                    ctx.err.write(enc(f"{ctx.prog}: {label}: binary file matches\n"))
                    out = TextSink()
                    break
                if after and last_printed >= 0 and idx - last_printed > 1:
                    out.append("--\n")
                if only:
                    if not invert:
                        for m in rx.finditer(line):
                            if m.group(0):
                                out.append(prefix + m.group(0) + "\n")
                else:
                    out.append(prefix + line + "\n")
                last_printed = idx
                pending_after = after
            elif pending_after > 0 and not count:
                if not only:
                    out.append(f"{label}-" * show_name + line + "\n")
                last_printed = idx
                pending_after -= 1
            elif maxc >= 0 and n >= maxc:
                break
        if count:
            out.append(f"{prefix}{n}\n")
        ctx.write("".join(out))
    if error and not (quiet and status == 0):
        return 2
    return status


# --- stat ------------------------------------------------------------------------

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
        return f"cannot resolve {what}: cannot read {db}: {_errstr(exc)}"
    except NotInSnapshot:
        return f"cannot resolve {what}: {db} was not recorded"
    return f"cannot resolve {what}: no {'user' if user else 'group'} with that id in {db}"


def owner_name(ctx: Ctx, num: int, *, user: bool) -> str:
    """The user (group) name GNU stat prints for an id, UNKNOWN when there is none; an UNKNOWN is noted as an
    unavailable fact, so the check is WARN with the reason instead of comparing "UNKNOWN" with anything."""
    name = ctx.host.user_name(num) if user else ctx.host.group_name(num)
    if name is not None:
        return name
    facts = unavailable.get()
    key = ("uid" if user else "gid", num)
    if facts is not None and key not in facts:
        facts[key] = _name_problem(ctx.host, user, num)
    return "UNKNOWN"


def _stat_format(ctx: Ctx, fmt: str, name: str, st: FileStat) -> str:
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
            ctx.error(f"cannot statx {shell_quote_always(f)}: {_errstr(exc)}")
            status = 1
            continue
        ctx.write(_stat_format(ctx, fmt, f, st) + "\n")
    return status


# --- find ------------------------------------------------------------------------


class _FindExpr:
    def __init__(self, ctx: Ctx, tokens: list[str]) -> None:
        self.ctx = ctx
        self.t = tokens
        self.i = 0
        self.has_action = False
        self.maxdepth = -1
        self.mindepth = 0
        self.batches: list[tuple[list[str], list[str]]] = []  # -exec ... {} + : (cmd, files)
        self.failed = False
        self.tree: Callable[[str, str, FileStat], bool] = (
            self.parse_or() if tokens else (lambda p, n, s: True)
        )
        if self.i != len(self.t):
            raise Unsupported(f"find expression near {self.t[self.i]!r}")

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> str:
        if self.i >= len(self.t):
            raise Unsupported("find: missing argument")
        v = self.t[self.i]
        self.i += 1
        return v

    def parse_or(self) -> Callable[[str, str, FileStat], bool]:
        left = self.parse_and()
        while self.peek() in ("-o", "-or"):
            self.i += 1
            right = self.parse_and()
            left = (lambda a, b: lambda p, n, s: a(p, n, s) or b(p, n, s))(left, right)
        return left

    def parse_and(self) -> Callable[[str, str, FileStat], bool]:
        left = self.parse_not()
        while self.peek() is not None and self.peek() not in ("-o", "-or", ")"):
            if self.peek() in ("-a", "-and"):
                self.i += 1
            right = self.parse_not()
            left = (lambda a, b: lambda p, n, s: a(p, n, s) and b(p, n, s))(left, right)
        return left

    def parse_not(self) -> Callable[[str, str, FileStat], bool]:
        if self.peek() in ("!", "-not"):
            self.i += 1
            inner = self.parse_not()
            return lambda p, n, s: not inner(p, n, s)
        return self.primary()

    def primary(self) -> Callable[[str, str, FileStat], bool]:
        tok = self.take()
        if tok == "(":
            e = self.parse_or()
            if self.take() != ")":
                raise Unsupported("find: missing )")
            return e
        if tok in ("-name", "-iname"):
            pat = self.take()
            rx = re.compile(glob_to_regex([(pat, True)]), re.DOTALL | (re.I if tok == "-iname" else 0))
            return lambda p, n, s: rx.fullmatch(n) is not None
        if tok == "-type":
            t = self.take()
            tests = {"f": _stat.S_ISREG, "d": _stat.S_ISDIR, "l": _stat.S_ISLNK, "b": _stat.S_ISBLK,
                     "c": _stat.S_ISCHR, "p": _stat.S_ISFIFO, "s": _stat.S_ISSOCK}
            if t not in tests:
                raise Unsupported(f"find -type {t}")
            fn = tests[t]
            return lambda p, n, s: bool(fn(s.mode))
        if tok in ("-maxdepth", "-mindepth"):
            v = self.take()
            depth = ascii_uint(v)
            if depth is None:
                raise Unsupported(f"find {tok} {v}")
            if tok == "-maxdepth":
                self.maxdepth = depth
            else:
                self.mindepth = depth
            return lambda p, n, s: True
        if tok == "-perm":
            v = self.take()
            mode_s = v.lstrip("-/")
            if not re.fullmatch(r"[0-7]{1,4}", mode_s):
                raise Unsupported(f"find -perm {v}")
            m = int(mode_s, 8)
            if v.startswith("-"):
                return lambda p, n, s: (s.mode & m) == m
            if v.startswith("/"):
                return lambda p, n, s: m == 0 or bool(s.mode & m)
            return lambda p, n, s: (s.mode & 0o7777) == m
        if tok in ("-user", "-group", "-uid", "-gid"):
            v = self.take()
            if ascii_uint(v) is None:
                raise Unsupported(f"find {tok} by name")
            num = int(v)
            if tok in ("-user", "-uid"):
                return lambda p, n, s: s.uid == num
            return lambda p, n, s: s.gid == num
        if tok == "-print":
            self.has_action = True

            def _print(p: str, n: str, s: FileStat) -> bool:
                self.ctx.write(p + "\n")
                return True

            return _print
        if tok == "-exec":
            self.has_action = True
            cmd: list[str] = []
            while True:
                a = self.take()
                if a == ";":
                    break
                if a == "+" and cmd and cmd[-1] == "{}":
                    batch: tuple[list[str], list[str]] = (cmd[:-1], [])
                    self.batches.append(batch)

                    def _add(p: str, n: str, s: FileStat, b: tuple[list[str], list[str]] = batch) -> bool:
                        b[1].append(p)
                        return True

                    return _add
                cmd.append(a)
            if not cmd:
                raise Unsupported("find -exec without a command")

            def _exec(p: str, n: str, s: FileStat, c: list[str] = cmd) -> bool:
                argv = [p if x == "{}" else x.replace("{}", p) for x in c]
                return self.ctx.shell.run_utility(argv, Stream(), self.ctx.out, self.ctx.err) == 0

            return _exec
        raise Unsupported(f"find {tok}")


def u_find(ctx: Ctx, args: list[str]) -> int:
    k = 0
    while k < len(args) and args[k] in ("-P",):
        k += 1
    paths: list[str] = []
    while k < len(args) and not (args[k].startswith("-") or args[k] in ("!", "(")):
        paths.append(args[k])
        k += 1
    expr = _FindExpr(ctx, args[k:])
    status = 0
    for start in paths or ["."]:
        try:
            st = ctx.host.stat(ctx.path(start), follow_symlinks=False)
            if start.endswith("/") and _stat.S_ISLNK(st.mode):
                st = ctx.host.stat(ctx.path(start), follow_symlinks=True)
        except OSError as exc:
            ctx.error(f"{shell_quote_always(start)}: {_errstr(exc)}")
            status = 1
            continue
        for path, name, s, depth in _walk(ctx, start, st, expr.maxdepth):
            if path.startswith("\0"):
                ctx.error(f"{shell_quote_always(path[1:])}: {name}")
                status = 1
                continue
            if depth < expr.mindepth:
                continue
            r = expr.tree(path, name, s)
            if r and not expr.has_action:
                ctx.write(path + "\n")
    for cmd, files in expr.batches:
        if files and ctx.shell.run_utility(cmd + files, Stream(), ctx.out, ctx.err) != 0:
            status = 1
    return status


def _walk(ctx: Ctx, start: str, st: FileStat, maxdepth: int) -> Iterator[tuple[str, str, FileStat, int]]:
    base = start.rstrip("/")
    name = base.rsplit("/", 1)[-1] if base else "/"
    stack: list[tuple[str, str, FileStat, int]] = [(start, name, st, 0)]
    while stack:
        path, nm, s, depth = stack.pop()
        yield path, nm, s, depth
        if _stat.S_ISDIR(s.mode) and (maxdepth < 0 or depth < maxdepth):
            try:
                entries = ctx.host.listdir(ctx.path(path))
            except NotInSnapshot:
                raise
            except OSError as exc:
                yield "\0" + path, _errstr(exc), s, depth
                continue
            children = []
            for e in entries:
                child = path + e if path.endswith("/") else path + "/" + e
                try:
                    cs = ctx.host.stat(ctx.path(child), follow_symlinks=False)
                except OSError:
                    continue
                children.append((child, e, cs, depth + 1))
            stack.extend(reversed(children))


# --- xargs -------------------------------------------------------------------------


def _xargs_tokens(ctx: Ctx, data: str) -> list[str] | None:
    toks: list[str] = []
    cur: list[str] = []
    have = False
    i = 0
    while i < len(data):
        c = data[i]
        if c in " \t\n":
            if have:
                toks.append("".join(cur))
                cur, have = [], False
        elif c in "'\"":
            end = data.find(c, i + 1)
            nl = data.find("\n", i + 1)
            if end < 0 or (0 <= nl < end):
                kind = "single" if c == "'" else "double"
                ctx.error(f"unmatched {kind} quote; by default quotes are special to xargs unless you use "
                          "the -0 option")
                return None
            cur.append(data[i + 1 : end])
            have = True
            i = end
        elif c == "\\" and i + 1 < len(data):
            cur.append(data[i + 1])
            have = True
            i += 1
        else:
            cur.append(c)
            have = True
        i += 1
    if have:
        toks.append("".join(cur))
    return toks


def u_xargs(ctx: Ctx, args: list[str]) -> int:
    replace: str | None = None
    no_run_empty = False
    max_lines = 0
    max_args = 0
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-r", "--no-run-if-empty"):
            no_run_empty = True
        elif a == "-I" and i + 1 < len(args):
            replace = args[i + 1]
            i += 1
        elif a.startswith("-I") and len(a) > 2:
            replace = a[2:]
        elif a == "-i" or a.startswith("--replace"):
            replace = a.partition("=")[2] or "{}" if a != "-i" else "{}"
        elif a == "-L" and i + 1 < len(args) and ascii_uint(args[i + 1]) is not None:
            max_lines = int(args[i + 1])
            i += 1
        elif a.startswith("-L") and ascii_uint(a[2:]) is not None:
            max_lines = int(a[2:])
        elif a == "-n" and i + 1 < len(args) and ascii_uint(args[i + 1]) is not None:
            max_args = int(args[i + 1])
            i += 1
        elif a.startswith("-") and a != "-":
            raise Unsupported(f"xargs {a}")
        else:
            break
        i += 1
    cmd = args[i:] or ["echo"]
    data = dec(ctx.stdin.read_all())
    invocations: list[list[str]] = []
    if replace is not None:
        for line in data.split("\n"):
            line = line.lstrip(" \t")
            if not line:
                continue
            toks = _xargs_tokens(ctx, line)
            if toks is None:
                return 1
            arg = " ".join(toks) if toks else ""
            invocations.append([x.replace(replace, arg) for x in cmd])
    elif max_lines:
        groups: list[list[str]] = []
        cur: list[str] = []
        nlines = 0
        for line in data.split("\n"):
            if line.endswith("\\"):
                raise Unsupported("xargs -L with an escaped newline")
            toks = _xargs_tokens(ctx, line)
            if toks is None:
                return 1
            if not toks:
                continue  # blank lines do not count
            cur.extend(toks)
            if line.endswith((" ", "\t")):
                continue  # GNU: a trailing blank continues the logical line on the next one
            nlines += 1
            if nlines == max_lines:
                groups.append(cur)
                cur, nlines = [], 0
        if cur:
            groups.append(cur)
        invocations = [cmd + g for g in groups]
    else:
        toks = _xargs_tokens(ctx, data)
        if toks is None:
            return 1
        if max_args:
            invocations = [cmd + toks[k : k + max_args] for k in range(0, len(toks), max_args)]
        elif toks:
            invocations = [cmd + toks]
    if not invocations and not no_run_empty and replace is None:
        invocations = [list(cmd)]
    status = 0
    for argv in invocations:
        st = ctx.shell.run_utility(argv, Stream(), ctx.out, ctx.err)
        if st == 255:
            ctx.error(f"{argv[0]}: exited with status 255; aborting")
            return 124
        if st == 127:
            return 127
        if st == 126:
            return 126
        if 1 <= st <= 125:
            status = 123
    return status


# --- text filters -------------------------------------------------------------------


def _text_in(ctx: Ctx, files: list[str]) -> tuple[bytes, int]:
    chunks: list[bytes] = []
    status = 0
    for f in files or ["-"]:
        try:
            chunks.append(_read_input(ctx, f))
        except OSError as exc:
            kind = "read error" if isinstance(exc, IsADirectoryError) else ""
            if kind:
                ctx.error(f"{shell_quote(f)}: Is a directory")
            else:
                ctx.error(f"cannot open {shell_quote_always(f)} for reading: {_errstr(exc)}")
            status = 1
    return b"".join(chunks), status


def _count_arg(v: str) -> int:
    n = ascii_uint(v)
    if n is None:
        raise Unsupported(f"count {v}")
    return n


def u_head(ctx: Ctx, args: list[str]) -> int:
    opts, files = _short_opts(args, "n", "#", "head")
    n = 10
    if "n" in opts:
        n = _count_arg(opts["n"][-1])
    if "#" in opts:
        n = _count_arg(opts["#"][-1])
    if len(files) > 1:
        raise Unsupported("head with several files")
    data, st = _text_in(ctx, files)
    lines = data.split(b"\n")
    keep = b"\n".join(lines[:n])
    if len(lines) > n:
        keep += b"\n"
    ctx.write(keep)
    return st


def u_tail(ctx: Ctx, args: list[str]) -> int:
    opts, files = _short_opts(args, "n", "#", "tail")
    n = 10
    from_start = False
    if "n" in opts:
        v = opts["n"][-1]
        if v.startswith("+"):
            from_start = True
            v = v[1:]
        n = _count_arg(v)
    if "#" in opts:
        n = _count_arg(opts["#"][-1])
    if len(files) > 1:
        raise Unsupported("tail with several files")
    data, st = _text_in(ctx, files)
    lines = data.split(b"\n")
    trailing = bool(lines) and lines[-1] == b""
    if trailing:
        lines.pop()
    sel = lines[max(n - 1, 0) :] if from_start else (lines[-n:] if n else [])
    out = b"\n".join(sel)
    if sel and trailing:
        out += b"\n"
    ctx.write(out)
    return st


def u_sort(ctx: Ctx, args: list[str]) -> int:
    opts, files = _short_opts(args, "", "urn", "sort")
    data, st = _text_in(ctx, files)
    lines = _lines(data)
    if "n" in opts:
        def key(b: bytes) -> tuple[float, bytes]:
            m = re.match(rb"\s*(-?\d+(?:\.\d+)?)", b)
            return (float(m.group(1)) if m else 0.0, b)
        lines.sort(key=key)
    else:
        lines.sort()
    if "r" in opts:
        lines.reverse()
    if "u" in opts:
        seen: list[bytes] = []
        for ln in lines:
            if not seen or seen[-1] != ln:
                seen.append(ln)
        lines = seen
    ctx.write(b"".join(ln + b"\n" for ln in lines))
    return st


def u_uniq(ctx: Ctx, args: list[str]) -> int:
    opts, files = _short_opts(args, "", "c", "uniq")
    if len(files) > 1:
        raise Unsupported("uniq output file")
    data, st = _text_in(ctx, files)
    groups: list[list[bytes]] = []
    for ln in _lines(data):
        if groups and groups[-1][0] == ln:
            groups[-1].append(ln)
        else:
            groups.append([ln])
    for g in groups:
        ctx.write((f"{len(g):>7} ".encode() if "c" in opts else b"") + g[0] + b"\n")
    return st


def u_wc(ctx: Ctx, args: list[str]) -> int:
    opts, files = _short_opts(args, "", "lwc", "wc")
    if len(opts) != 1 or len(files) > 1:
        raise Unsupported("wc form")
    data, st = _text_in(ctx, files)
    if st:
        return st
    key = next(iter(opts))
    n = data.count(b"\n") if key == "l" else len(data.split()) if key == "w" else len(data)
    ctx.write(f"{n}" + (f" {files[0]}" if files else "") + "\n")
    return 0


def _tr_set(s: str) -> list[int]:
    out: list[int] = []
    i = 0
    classes = {"upper": range(65, 91), "lower": range(97, 123), "digit": range(48, 58),
               "space": [32, 9, 10, 11, 12, 13], "blank": [32, 9]}
    while i < len(s):
        if s.startswith("[:", i):
            end = s.find(":]", i)
            name = s[i + 2 : end] if end > 0 else ""
            if name not in classes:
                raise Unsupported(f"tr class {name}")
            out.extend(classes[name])
            i = end + 2
            continue
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            d = s[i + 1]
            m = re.match(r"[0-7]{1,3}", s[i + 1 :])
            if m:
                code = int(m.group(0), 8)
                i += 1 + m.end()
            else:
                code = ord({"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f",
                            "v": "\v"}.get(d, d))
                i += 2
        else:
            code = ord(c)
            i += 1
        if i + 1 < len(s) and s[i] == "-":
            hi = ord(s[i + 1])
            if hi < code:
                raise Unsupported("tr reverse range")
            out.extend(range(code, hi + 1))
            i += 2
        else:
            out.append(code)
    return out


def u_tr(ctx: Ctx, args: list[str]) -> int:
    opts, sets = _short_opts(args, "", "ds", "tr")
    data = ctx.stdin.read_all()
    if "d" in opts and "s" not in opts:
        if len(sets) != 1:
            raise Unsupported("tr -d form")
        table = bytes(b for b in _tr_set(sets[0]) if b < 256)
        ctx.write(data.translate(None, table))
        return 0
    if set(opts) == {"s"} and len(sets) == 1:
        squeeze = set(_tr_set(sets[0]))
        res = bytearray()
        for byte in data:
            if res and byte == res[-1] and byte in squeeze:
                continue
            res.append(byte)
        ctx.write(bytes(res))
        return 0
    if opts or len(sets) != 2:
        raise Unsupported("tr form")
    a, b = _tr_set(sets[0]), _tr_set(sets[1])
    if not b:
        raise Unsupported("tr empty set2")
    b = b + [b[-1]] * (len(a) - len(b))
    mapping = list(range(256))
    for x, y in zip(a, b, strict=False):
        if x < 256 and y < 256:
            mapping[x] = y
    ctx.write(data.translate(bytes(mapping)))
    return 0


def _cut_list(spec: str) -> Callable[[int], bool]:
    ranges: list[tuple[int, int]] = []
    for part in spec.split(","):
        m = re.fullmatch(r"([0-9]*)(-?)([0-9]*)", part)
        if not m or not part or part == "-":
            raise Unsupported(f"cut list {spec}")
        lo_n = ascii_uint(m.group(1)) if m.group(1) else 1
        hi_n = ascii_uint(m.group(3)) if m.group(3) else (lo_n if not m.group(2) else 1 << 62)
        if lo_n is None or hi_n is None:
            raise Unsupported(f"cut list {spec}: number out of range")
        lo, hi = lo_n, hi_n
        ranges.append((lo, hi))
    return lambda k: any(lo <= k <= hi for lo, hi in ranges)


def u_cut(ctx: Ctx, args: list[str]) -> int:
    opts, files = _short_opts(args, "dfc", "s", "cut")
    data, st = _text_in(ctx, files)
    out: list[bytes] = []
    if "f" in opts:
        delim = enc(opts.get("d", ["\t"])[-1])
        if len(delim) != 1:
            raise Unsupported("cut delimiter")
        want = _cut_list(opts["f"][-1])
        for ln in _lines(data):
            if delim not in ln:
                if "s" not in opts:
                    out.append(ln + b"\n")
                continue
            fields = ln.split(delim)
            out.append(delim.join(f for k, f in enumerate(fields, 1) if want(k)) + b"\n")
    elif "c" in opts:
        want = _cut_list(opts["c"][-1])
        for ln in _lines(data):
            out.append(bytes(b for k, b in enumerate(ln, 1) if want(k)) + b"\n")
    else:
        raise Unsupported("cut without -f/-c")
    ctx.write(b"".join(out))
    return st


# --- sed -------------------------------------------------------------------------------


class _SedCmd:
    def __init__(self, addr: object, cmd: str, rx: re.Pattern[str] | None = None, repl: str = "",
                 glob: bool = False, pflag: bool = False, negate: bool = False) -> None:
        self.addr = addr
        self.negate = negate  # `ADDR!cmd`: run where the address does not match
        self.cmd = cmd
        self.rx = rx
        self.repl = repl
        self.glob = glob
        self.pflag = pflag


def _sed_parse(script: str, ext: bool) -> list[_SedCmd]:
    cmds: list[_SedCmd] = []
    i = 0
    n = len(script)
    while i < n:
        while i < n and script[i] in " \t\n;":
            i += 1
        if i >= n:
            break
        addr: object = None
        m = re.match(r"[0-9]+", script[i:])
        if m:
            addr = ascii_uint(m.group(0))
            if addr is None:
                raise Unsupported(f"sed: line number {m.group(0)[:20]}... out of range")
            i += m.end()
        elif script[i] == "$":
            addr = "$"
            i += 1
        elif script[i] == "/":
            end = i + 1
            while end < n and script[end] != "/":
                end += 2 if script[end] == "\\" else 1
            if end >= n:
                raise Unsupported("sed: unterminated address regex")
            try:
                addr = compile_posix(script[i + 1 : end], ext)
            except RegexError as exc:
                raise Unsupported(f"sed regex: {exc}") from None
            i = end + 1
        negate = False
        if addr is not None and i < n and script[i] == "!":
            negate = True
            i += 1
            while i < n and script[i] in " \t":
                i += 1
        if i >= n:
            raise Unsupported("sed: missing command")
        c = script[i]
        i += 1
        if c in "pdq":
            cmds.append(_SedCmd(addr, c, negate=negate))
            continue
        if c != "s":
            raise Unsupported(f"sed command {c}")
        if i >= n:
            raise Unsupported("sed: unterminated s")
        delim = script[i]
        i += 1
        pieces: list[str] = []
        for _ in range(2):
            buf: list[str] = []
            while True:
                if i >= n:
                    raise Unsupported("sed: unterminated s")
                ch = script[i]
                if ch == "\\" and i + 1 < n:
                    nxt = script[i + 1]
                    buf.append(nxt if nxt == delim else "\\" + nxt)
                    i += 2
                    continue
                if ch == delim:
                    i += 1
                    break
                buf.append(ch)
                i += 1
            pieces.append("".join(buf))
        flags = re.match(r"[gpI0-9]*", script[i:])
        fl = flags.group(0) if flags else ""
        i += len(fl)
        if any(ch.isdigit() for ch in fl):
            raise Unsupported("sed s numeric flag")
        try:
            rx = compile_posix(pieces[0], ext, "I" in fl)
        except RegexError as exc:
            raise Unsupported(f"sed regex: {exc}") from None
        refs = [int(d) for d in re.findall(r"\\([1-9])", pieces[1].replace("\\\\", ""))]
        if refs and max(refs) > rx.groups:
            raise Unsupported(f"sed: invalid reference \\{max(refs)} on `s' command's RHS")
        cmds.append(_SedCmd(addr, "s", rx, pieces[1], "g" in fl, "p" in fl, negate))
    return cmds


def _sed_repl(repl: str) -> Callable[[re.Match[str]], str]:
    parts: list[tuple[str, str]] = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            d = repl[i + 1]
            if d in "0123456789":
                parts.append(("g", d))
            elif d == "n":
                parts.append(("t", "\n"))
            elif d == "t":
                parts.append(("t", "\t"))
            else:
                parts.append(("t", d))
            i += 2
        elif c == "&":
            parts.append(("g", "0"))
            i += 1
        else:
            parts.append(("t", c))
            i += 1

    made = 0

    def fn(m: re.Match[str]) -> str:
        nonlocal made
        text = "".join(v if k == "t" else (m.group(int(v)) or "") for k, v in parts)
        made += len(text)
        check_size(made, "sed pattern space")  # before a growing replacement is built, not after
        return text

    return fn


def u_sed(ctx: Ctx, args: list[str]) -> int:
    opts, rest = _short_opts(args, "e", "nEr", "sed")
    scripts = opts.get("e", [])
    if not scripts:
        if not rest:
            raise Unsupported("sed without a script")
        scripts = [rest[0]]
        rest = rest[1:]
    ext = "E" in opts or "r" in opts
    cmds = _sed_parse("\n".join(scripts), ext)
    data, st = _text_in(ctx, rest)
    lines = data.split(b"\n")
    last_nl = bool(lines) and lines[-1] == b""
    if last_nl:
        lines.pop()
    out = TextSink()
    quiet = "n" in opts
    total = len(lines)
    for num, raw in enumerate(lines, 1):
        ps = dec(raw)
        deleted = False
        quit_now = False
        is_last = num == total
        for c in cmds:
            a = c.addr
            if a is not None:
                if isinstance(a, int):
                    hit = a == num
                elif a == "$":
                    hit = is_last
                else:
                    assert isinstance(a, re.Pattern)
                    hit = a.search(ps) is not None
                if hit == c.negate:
                    continue
            if c.cmd == "p":
                out.append(ps + "\n")
            elif c.cmd == "d":
                deleted = True
                break
            elif c.cmd == "q":
                quit_now = True
                break
            else:
                assert c.rx is not None
                new, k = c.rx.subn(_sed_repl(c.repl), ps, count=0 if c.glob else 1)
                if k:
                    check_size(len(new), "sed pattern space")
                    ps = new
                    if c.pflag:
                        out.append(ps + "\n")
        if not deleted and not quiet:
            out.append(ps + ("\n" if (not is_last or last_nl) else ""))
        if quit_now:
            break
    text = "".join(out)
    if out and not last_nl and not quiet and not text.endswith("\n"):
        pass
    ctx.write(text)
    return st


# --- awk -------------------------------------------------------------------------------


def u_awk(ctx: Ctx, args: list[str]) -> int:
    fs = " "
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        a = args[i]
        if a == "-F" and i + 1 < len(args):
            fs = args[i + 1]
            i += 2
        elif a.startswith("-F"):
            fs = a[2:]
            i += 1
        else:
            raise Unsupported(f"awk {a}")
    if i >= len(args):
        raise Unsupported("awk without a program")
    prog = args[i]
    files = args[i + 1 :]
    m = re.fullmatch(r"\s*\{\s*print((?:\s+[^;{}]*)?)\s*;?\s*\}\s*", prog)
    if not m:
        return _awk_small(ctx, prog, files, fs)
    items: list[list[str]] = []  # comma-separated groups of concatenated terms
    expr = m.group(1).strip()
    if expr:
        for group in re.split(r"\s*,\s*", expr):
            terms = re.findall(r'\$(?:NF|[0-9]+)|"[^"\\]*"', group)
            if "".join(terms).replace(" ", "") != group.replace(" ", ""):
                raise Unsupported(f"awk expression {group!r}")
            items.append(terms)
    else:
        items = [["$0"]]
    fs = fs.replace("\\t", "\t")
    if fs == " ":
        def split(line: str) -> list[str]:
            return line.split()
    elif len(fs) == 1 and fs != "\\":
        def split(line: str) -> list[str]:
            return line.split(fs) if line else []
    else:
        try:
            frx = compile_posix(fs, True)
        except RegexError as exc:
            raise Unsupported(f"awk FS: {exc}") from None

        def split(line: str) -> list[str]:
            return frx.split(line) if line else []
    data, st = _text_in(ctx, files)
    out = TextSink()
    for raw in _lines(data):
        line = dec(raw)
        fields = split(line)

        def term(t: str, line: str = line, fields: list[str] = fields) -> str:
            if t.startswith('"'):
                return t[1:-1]
            if t == "$NF":
                return fields[-1] if fields else ""
            k = ascii_uint(t[1:])
            if k == 0:
                return line
            return fields[k - 1] if k is not None and k <= len(fields) else ""

        out.append(" ".join("".join(term(t) for t in g) for g in items) + "\n")
    ctx.write("".join(out))
    return st


_AWK_TOK = re.compile(r'\s*(\$NF|\$[0-9]+|"[^"\\]*"|[0-9]+(?:\.[0-9]+)?|==|!=|<=|>=|[<>(){};,]|if\b|else\b|print\b)')
_AWK_NUM = re.compile(r"[ \t\n]*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[ \t\n]*")


def _awk_small(ctx: Ctx, prog: str, files: list[str], fs: str) -> int:
    """mawk for ``[COND] { if (COND) { print ... } else { print ... } ... }`` over fields and constants."""
    toks: list[str] = []
    pos = 0
    while pos < len(prog):
        if not prog[pos:].strip():
            break
        mt = _AWK_TOK.match(prog, pos)
        if not mt:
            raise Unsupported("awk program other than { print ... }")
        toks.append(mt.group(1))
        pos = mt.end()
    k = 0

    def peek() -> str:
        return toks[k] if k < len(toks) else ""

    def take(t: str | None = None) -> str:
        nonlocal k
        if k >= len(toks) or (t is not None and toks[k] != t):
            raise Unsupported("awk program other than { print ... }")
        k += 1
        return toks[k - 1]

    def operand() -> tuple[str, str]:
        t = take()
        if t.startswith("$"):
            return ("field", t)
        if t.startswith('"'):
            return ("str", t[1:-1])
        if t[0].isdigit():
            return ("num", t)
        raise Unsupported("awk program other than { print ... }")

    Cond = tuple[tuple[str, str], str, tuple[str, str] | None]

    def cond() -> Cond:
        a = operand()
        if peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = take()
            return (a, op, operand())
        return (a, "", None)

    def stmt() -> list[object]:
        if peek() == "{":
            take("{")
            body: list[object] = []
            while peek() != "}":
                body.extend(stmt())
                while peek() == ";":
                    take(";")
            take("}")
            return body
        if peek() == "if":
            take("if")
            take("(")
            c = cond()
            take(")")
            then = stmt()
            while peek() == ";":
                take(";")
            els: list[object] = []
            if peek() == "else":
                take("else")
                els = stmt()
            return [("if", c, then, els)]
        take("print")
        groups: list[list[tuple[str, str]]] = []  # comma-separated (OFS), each a concatenation
        while peek() and peek() not in (";", "}"):
            if groups and peek() == ",":
                take(",")
                groups.append([])
            if not groups:
                groups.append([])
            groups[-1].append(operand())
        if any(not g for g in groups):
            raise Unsupported("awk print with an empty expression")
        return [("print", groups)]

    pattern: Cond | None = None
    if peek() != "{":
        pattern = cond()
    action = stmt()
    if k != len(toks):
        raise Unsupported("awk program other than { print ... }")
    if fs != " ":
        raise Unsupported("awk -F with a conditional program")
    data, st = _text_in(ctx, files)
    out = TextSink()
    for raw in _lines(data):
        line = dec(raw)
        fields = line.split()

        def value(o: tuple[str, str], line: str = line, fields: list[str] = fields) -> tuple[str, bool]:
            """(text, numeric?) of an operand; fields are strnums."""
            kind_, t = o
            if kind_ == "str":
                return t, False
            if kind_ == "num":
                return t, True
            idx = len(fields) if t == "$NF" else ascii_uint(t[1:])
            v = line if idx == 0 else (fields[idx - 1] if idx is not None and idx <= len(fields) else "")
            return v, bool(_AWK_NUM.fullmatch(v))

        def truth(c: Cond) -> bool:
            a, op, b = c
            va, na = value(a)
            if b is None:
                return float(va) != 0 if na else va != ""
            vb, nb = value(b)
            if na and nb:
                r = (float(va) > float(vb)) - (float(va) < float(vb))
            else:
                if a[0] == "num" or b[0] == "num":
                    raise Unsupported("awk number/string comparison")
                r = (va > vb) - (va < vb)
            return {"==": r == 0, "!=": r != 0, "<": r < 0, "<=": r <= 0, ">": r > 0, ">=": r >= 0}[op]

        def run(body: list[object], line: str = line) -> None:
            for s_ in body:
                assert isinstance(s_, tuple)
                if s_[0] == "print":
                    text = " ".join("".join(value(o)[0] for o in g) for g in s_[1]) if s_[1] else line
                    out.append(text + "\n")
                else:
                    run(s_[2] if truth(s_[1]) else s_[3])

        if pattern is None or truth(pattern):
            run(action)
    ctx.write("".join(out))
    return st


UTILITIES: dict[str, Utility] = {
    "cat": u_cat,
    "echo": u_echo,
    "printf": u_printf,
    "true": u_true,
    "false": u_false,
    "basename": u_basename,
    "dirname": u_dirname,
    "ps": u_ps,
    "grep": u_grep,
    "stat": u_stat,
    "find": u_find,
    "xargs": u_xargs,
    "head": u_head,
    "tail": u_tail,
    "sort": u_sort,
    "uniq": u_uniq,
    "wc": u_wc,
    "tr": u_tr,
    "cut": u_cut,
    "sed": u_sed,
    "awk": u_awk,
    "jq": u_jq,
    "paste": u_paste,
    "kubectl": u_kubectl,
    "oc": u_oc,
    "journalctl": u_journalctl,
    "openssl": u_openssl,  # x509 -subject/-issuer only
    "check_files_owner_in_dir.sh": u_check_files_owner_in_dir,  # kube-bench image helper (rke-cis sets)
    "kubecis": u_kubecis,  # kubecis probe NAME [ARGS] (kubecis.probes), in-process
}


def _unused(o: Out) -> None:  # keep imports meaningful for type checkers
    del o

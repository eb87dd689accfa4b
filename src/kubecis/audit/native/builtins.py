"""Shell builtins with dash's behaviour and messages (``echo`` interprets escapes, as in dash)."""

from __future__ import annotations

import re
import stat as _stat
from collections.abc import Callable
from typing import TYPE_CHECKING

from kubecis.audit.native import bounds
from kubecis.audit.native.bounds import ascii_uint, check_size
from kubecis.audit.native.errors import ShellSyntaxError, Unsupported
from kubecis.audit.native.flow import ExitShell, LoopControl, ReturnFunc
from kubecis.audit.native.parser import parse
from kubecis.audit.native.streams import Out, Stream, dec, enc

if TYPE_CHECKING:
    from kubecis.audit.native.shell import Shell

__all__ = ["BUILTINS", "DASH_BUILTINS", "SHELLS", "Builtin", "echo_escapes", "printf_format"]

Builtin = Callable[["Shell", list[str], Stream, Out, Out], int]


def echo_escapes(s: str) -> tuple[str, bool]:
    """dash/XSI echo escapes; returns (text, stop) where stop means ``\\c`` was seen."""
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            d = s[i + 1]
            i += 2
            simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
            if d in simple:
                out.append(simple[d])
            elif d == "c":
                return "".join(out), True
            elif d == "0":
                m = re.match(r"[0-7]{0,3}", s[i:])
                digits = m.group(0) if m else ""
                out.append(chr(int(digits or "0", 8) & 0xFF))
                i += len(digits)
            else:
                out.append("\\" + d)
            continue
        out.append(c)
        i += 1
    return "".join(out), False


def b_echo(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    args = argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline = False
        args = args[1:]
    text, stop = echo_escapes(" ".join(args))
    if stop:
        newline = False
    out.write(enc(text + ("\n" if newline else "")))
    return 0


def printf_format(fmt: str, args: list[str]) -> tuple[str, bool]:
    """printf(1) for %s %d %i %b %c %x %o %u %%; returns (text, ok)."""
    out: list[str] = []
    ok = True
    idx = 0
    first = True
    while first or idx < len(args):
        first = False
        consumed = False
        i = 0
        while i < len(fmt):
            c = fmt[i]
            if c == "\\":
                t, _stop = echo_escapes(fmt[i : i + 2] if fmt[i + 1 : i + 2] != "0" else fmt[i : i + 5])
                if fmt[i + 1 : i + 2] == "0":
                    m = re.match(r"\\0?[0-7]{0,3}", fmt[i:])
                    n = len(m.group(0)) if m else 2
                    digits = fmt[i + 1 : i + n].lstrip("0") or "0"
                    out.append(chr(int(digits, 8) & 0xFF))
                    i += n
                    continue
                out.append(t)
                i += 2
                continue
            if c != "%":
                out.append(c)
                i += 1
                continue
            m = re.match(r"%([-+ #0]*)([0-9]*)(?:\.([0-9]+))?([sdibcxXou%])", fmt[i:])
            if not m:
                raise Unsupported(f"printf format {fmt[i:i + 3]!r}")
            i += m.end()
            conv = m.group(4)
            if conv == "%":
                out.append("%")
                continue
            for digits in (m.group(2), m.group(3)):  # a width or precision is output that must fit the bounds
                if digits and (len(digits.lstrip("0")) > len(str(bounds.MAX_DATA)) or int(digits) > bounds.MAX_DATA):
                    check_size(bounds.MAX_DATA + 1, "printf field width")
            arg = args[idx] if idx < len(args) else ""
            if idx < len(args):
                idx += 1
                consumed = True
            spec = "%" + m.group(1) + m.group(2) + (("." + m.group(3)) if m.group(3) else "")
            if conv == "s":
                out.append((spec + "s") % arg)
            elif conv == "b":
                out.append((spec + "s") % echo_escapes(arg)[0])
            elif conv == "c":
                out.append(arg[:1])
            else:
                try:
                    num = int(arg or "0", 0) if not re.fullmatch(r"-?0\d+", arg) else int(arg, 8)
                except ValueError:
                    ok = False
                    num = 0
                pyconv = {"i": "d", "u": "d"}.get(conv, conv)
                out.append((spec + pyconv) % num)
        if not consumed:
            break
    return "".join(out), ok


def b_printf(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    if len(argv) < 2:
        sh.diag("printf: usage: printf format [arg ...]", err)
        return 2
    text, ok = printf_format(argv[1], argv[2:])
    out.write(enc(text))
    return 0 if ok else 1


class _TestError(Exception):
    pass


_UNARY = {
    "-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-b", "-c",
    "-p", "-S", "-g", "-u", "-k", "-n", "-z", "-t", "-O", "-G",
}
_BINARY = {"=", "!=", "<", ">", "-eq", "-ne", "-gt", "-ge", "-lt", "-le", "-nt", "-ot", "-ef"}


def _file_test(sh: Shell, op: str, arg: str) -> bool:
    path = sh.abspath(arg)
    follow = op not in ("-L", "-h")
    try:
        st = sh.host.stat(path, follow_symlinks=follow)
    except OSError:
        return False
    m = st.mode
    if op == "-e":
        return True
    if op == "-f":
        return _stat.S_ISREG(m)
    if op == "-d":
        return _stat.S_ISDIR(m)
    if op in ("-L", "-h"):
        return _stat.S_ISLNK(m)
    if op == "-s":
        return st.size > 0
    if op in ("-r", "-w"):
        return True  # root
    if op == "-x":
        return bool(m & 0o111) or _stat.S_ISDIR(m)
    if op == "-b":
        return _stat.S_ISBLK(m)
    if op == "-c":
        return _stat.S_ISCHR(m)
    if op == "-p":
        return _stat.S_ISFIFO(m)
    if op == "-S":
        return _stat.S_ISSOCK(m)
    if op == "-g":
        return bool(m & _stat.S_ISGID)
    if op == "-u":
        return bool(m & _stat.S_ISUID)
    if op == "-k":
        return bool(m & _stat.S_ISVTX)
    if op == "-O":
        return st.uid == 0
    if op == "-G":
        return st.gid == 0
    raise Unsupported(f"test {op}")


def _int(s: str) -> int:
    t = s.strip(" \t")
    if not re.fullmatch(r"[-+]?[0-9]+", t):
        raise _TestError(f"Illegal number: {s}")
    v = ascii_uint(t.lstrip("+-"))
    if v is None:  # dash's strtoimax: out of range is an illegal number too
        raise _TestError(f"Illegal number: {s}")
    return -v if t.startswith("-") else v


class _TestParser:
    def __init__(self, sh: Shell, args: list[str], bash: bool) -> None:
        self.sh = sh
        self.a = args
        self.i = 0
        self.bash = bash

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.a[j] if j < len(self.a) else None

    def oexpr(self) -> bool:
        r = self.aexpr()
        while self.peek() in ("-o", "||" if self.bash else "-o"):
            self.i += 1
            r = self.aexpr() or r
        return r

    def aexpr(self) -> bool:
        r = self.nexpr()
        while self.peek() in ("-a", "&&" if self.bash else "-a"):
            self.i += 1
            r = self.nexpr() and r
        return r

    def nexpr(self) -> bool:
        if self.peek() == "!" and self.peek(1) is not None:
            self.i += 1
            return not self.nexpr()
        return self.primary()

    def primary(self) -> bool:
        t = self.peek()
        if t is None:
            raise _TestError("argument expected")
        if t == "(" and self.peek(1) is not None:
            self.i += 1
            r = self.oexpr()
            if self.peek() != ")":
                raise _TestError("closing paren expected")
            self.i += 1
            return r
        nxt = self.peek(1)
        if nxt is not None and (nxt in _BINARY or (self.bash and nxt in ("==", "=~"))):
            if self.peek(2) is None:
                raise _TestError("argument expected")
            left, op, right = t, nxt, self.a[self.i + 2]
            self.i += 3
            return self.binary(left, op, right)
        if t in _UNARY and nxt is not None:
            self.i += 2
            if t == "-n":
                return nxt != ""
            if t == "-z":
                return nxt == ""
            if t == "-t":
                return False
            return _file_test(self.sh, t, nxt)
        self.i += 1
        return t != ""

    def binary(self, left: str, op: str, right: str) -> bool:
        if op in ("=", "=="):
            if self.bash and op == "==" and any(c in right for c in "*?["):
                raise Unsupported("[[ == pattern matching ]]")
            return left == right
        if op == "!=":
            return left != right
        if op == "<":
            return left < right
        if op == ">":
            return left > right
        if op in ("-nt", "-ot", "-ef", "=~"):
            raise Unsupported(f"test {op}")
        a, b = _int(left), _int(right)
        return {"-eq": a == b, "-ne": a != b, "-gt": a > b, "-ge": a >= b, "-lt": a < b, "-le": a <= b}[op]


def run_test(sh: Shell, name: str, args: list[str], err: Out, bash: bool = False) -> int:
    if not args:
        return 1
    p = _TestParser(sh, args, bash)
    try:
        r = p.oexpr()
        if p.i != len(args):
            raise _TestError(f"{args[max(p.i - 1, 0)]}: unexpected operator")
    except _TestError as e:
        msg = str(e)
        sh.diag(f"{name}: {msg.removeprefix(': ')}", err)
        return 2
    return 0 if r else 1


def b_test(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    return run_test(sh, "test", argv[1:], err)


def b_bracket(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    """dash's ``[``: bash's ``==`` is no operator there ("unexpected operator", status 2)."""
    if argv[-1] != "]":
        sh.diag("[: missing ]", err)
        return 2
    return run_test(sh, "[", argv[1:-1], err)


def b_dbracket(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    """bash's ``[[`` is no command in dash: "[[: not found", status 127 (unless a file of that name exists)."""
    if sh._on_path(argv[0]):
        raise Unsupported("command [[")
    sh.diag(f"{argv[0]}: not found", err)
    return 127


def b_set(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    """``set -e``/``+e`` (``-E``, accepted by this dash, does nothing)."""
    args = argv[1:]
    if not args:
        raise Unsupported("set listing")
    for a in args:
        if not re.fullmatch(r"[-+][eE]+", a):
            raise Unsupported(f"set {a}")
        if "e" in a:
            sh.errexit = a[0] == "-"
    return 0


_SIGNALS = {"EXIT", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
            "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
            "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"}


def b_trap(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    """Only dash's answer to bash's pseudo-signals (``trap f ERR``: "trap: ERR: bad trap", status 1)."""
    if len(argv) < 3:
        raise Unsupported("trap listing or reset")
    bad = [s for s in argv[2:] if s.removeprefix("SIG") not in _SIGNALS and not s.isdigit()]
    if len(bad) != len(argv) - 2:
        raise Unsupported("trap (handlers are not run natively)")
    err.write(enc(f"trap: {bad[0]}: bad trap\n"))
    return 1


def b_pwd(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    if len(argv) > 1:
        raise Unsupported("pwd options")
    out.write(enc(sh.cwd + "\n"))
    return 0


def b_true(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    return 0


def b_false(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    return 1


def b_exit(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    if len(argv) > 1:
        status = _dash_number(argv[1])
        if status is None:
            sh.diag(f"exit: Illegal number: {argv[1]}", err)
            raise ExitShell(2)
        raise ExitShell(status & 0xFF)
    raise ExitShell(sh.status)


def b_return(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    given = _dash_number(argv[1]) if len(argv) > 1 else sh.status
    if given is None:
        raise Unsupported("return with a non-numeric status")
    status = given & 0xFF
    if sh.depth == 0:
        raise ExitShell(status)  # dash: return outside a function ends the script
    raise ReturnFunc(status)


def _dash_number(text: str) -> int | None:
    """dash's ``number()``: ASCII digits up to INT_MAX; None for an "Illegal number"."""
    n = ascii_uint(text)
    return n if n is not None and n <= 0x7FFFFFFF else None


def _loop_count(sh: Shell, argv: list[str], err: Out) -> int | None:
    if len(argv) > 2:
        raise Unsupported(f"{argv[0]} with several arguments")
    if len(argv) == 2:
        n = _dash_number(argv[1])
        if not n:
            raise Unsupported(f"{argv[0]} {argv[1]}")
        return n
    return 1


def b_break(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    n = _loop_count(sh, argv, err)
    if sh.loop_depth == 0 or n is None:
        return 0
    raise LoopControl(argv[0] == "continue", min(n, sh.loop_depth))


def b_local(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    if not sh.locals or sh.depth == 0:
        sh.diag("local: not in a function", err)
        raise ExitShell(2)
    frame = sh.locals[-1]
    for a in argv[1:]:
        name, eq, value = a.partition("=")
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise Unsupported("local with a bad name")
        if name not in frame:
            frame[name] = sh.vars.get(name)
        if eq:
            sh.vars[name] = value
    return 0


def b_cd(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    args = argv[1:]
    if len(args) != 1 or args[0].startswith("-") or not args[0]:
        raise Unsupported("cd other than cd DIR")
    target = sh.abspath(args[0])
    try:
        st = sh.host.stat(target)
        ok = _stat.S_ISDIR(st.mode)
    except OSError:
        ok = False
    if not ok:
        sh.diag(f"cd: can't cd to {args[0]}", err)
        return 2
    import posixpath

    sh.cwd = posixpath.normpath(target)
    if sh.cwd.startswith("//"):
        sh.cwd = "/" + sh.cwd.lstrip("/")
    return 0


def b_export(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    for a in argv[1:]:
        name, eq, value = a.partition("=")
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise Unsupported("export of a bad name")
        if eq:
            sh.vars[name] = value
        sh.exported.add(name)
    if len(argv) == 1:
        raise Unsupported("export listing")
    return 0


def b_unset(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    for a in argv[1:]:
        if a.startswith("-"):
            raise Unsupported("unset options")
        sh.vars.pop(a, None)
        sh.exported.discard(a)
        sh.dropped.add(a)
    return 0


def b_read(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    """dash's read: backslash escapes and continuation lines (unless -r); the last name takes the rest."""
    args = argv[1:]
    raw = False
    while args and args[0].startswith("-"):
        if args[0] != "-r":
            raise Unsupported(f"read {args[0]}")
        raw = True
        args = args[1:]
    if not args:
        sh.diag("read: arg count", err)
        return 2
    names = args
    for name in names:
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise Unsupported("read into a bad name")
    ifs = sh.vars.get("IFS", " \t\n")
    if ifs.strip(" \t\n"):
        raise Unsupported("read with non-blank IFS")
    chars: list[tuple[str, bool]] = []  # (character, escaped)
    status = 1
    got_any = False
    while True:
        line_b = fin.read_line()
        if line_b is None:
            break
        got_any = True
        ended = line_b.endswith(b"\n")
        line = dec(line_b[:-1] if ended else line_b)
        cont = False
        i = 0
        while i < len(line):
            c = line[i]
            if c == "\\" and not raw:
                if i + 1 < len(line):
                    chars.append((line[i + 1], True))
                    i += 2
                    continue
                cont = ended  # backslash-newline: the line goes on
                i += 1
                continue
            chars.append((c, False))
            i += 1
        if cont:
            continue
        status = 0 if ended else 1
        break
    if not got_any:
        status = 1

    def is_sep(k: int) -> bool:
        c, esc = chars[k]
        return not esc and c in ifs

    k = 0
    nchars = len(chars)
    values: list[str] = []
    for idx in range(len(names)):
        while k < nchars and is_sep(k):
            k += 1
        if idx == len(names) - 1:
            end = nchars
            while end > k and is_sep(end - 1):
                end -= 1
            values.append("".join(c for c, _ in chars[k:end]))
            break
        start = k
        while k < nchars and not is_sep(k):
            k += 1
        values.append("".join(c for c, _ in chars[start:k]))
    for idx, name in enumerate(names):
        sh.vars[name] = values[idx] if idx < len(values) else ""
    return status


def b_sh(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    """``sh -c SCRIPT [NAME [ARG...]]``: interpret the inner script in a new shell."""
    if len(argv) == 1 and fin.pos >= len(fin.data):
        return 0  # a shell reading its script from an empty stdin (audits run with stdin at EOF)
    if len(argv) < 2 or argv[1] != "-c":
        raise Unsupported(f"{argv[0]} without -c")
    if len(argv) < 3:
        err.write(enc(f"{argv[0]}: 0: -c requires an argument\n"))
        return 2
    if sh.depth > 10:
        raise Unsupported("nested shells too deep")
    inner = sh.nested(argv[3] if len(argv) > 3 else argv[0], argv[4:])
    saved_depth = inner.depth
    try:
        try:
            node = parse(argv[2])
        except ShellSyntaxError as e:
            raise Unsupported(f"syntax error in nested script: {e}") from None
        inner.depth = 0  # `return` at the top of the nested script is still "outside a function"
        return inner.execute(node, fin, out, err)
    except ExitShell as e:
        return e.status
    finally:
        inner.depth = saved_depth


BUILTINS: dict[str, Builtin] = {
    "echo": b_echo,
    "printf": b_printf,
    "test": b_test,
    "[": b_bracket,
    "[[": b_dbracket,
    "true": b_true,
    ":": b_true,
    "false": b_false,
    "exit": b_exit,
    "return": b_return,
    "export": b_export,
    "unset": b_unset,
    "read": b_read,
    "break": b_break,
    "continue": b_break,
    "local": b_local,
    "cd": b_cd,
    "pwd": b_pwd,
    "set": b_set,
    "trap": b_trap,
}
# dash's other builtins: never looked up on PATH ("not found" would be wrong)
DASH_BUILTINS = {".", "alias", "bg", "chdir", "command", "eval", "exec", "fc", "fg", "getopts", "hash", "jobs",
                 "kill", "readonly", "shift", "times", "type", "ulimit", "umask", "unalias", "wait"}
SHELLS = {"sh", "/bin/sh", "/usr/bin/sh", "bash", "/bin/bash", "/usr/bin/bash", "ash", "/bin/ash"}
for _name in SHELLS:
    BUILTINS[_name] = b_sh

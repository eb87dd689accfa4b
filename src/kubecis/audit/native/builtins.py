"""Shell builtins with dash's behaviour and messages (``echo`` interprets escapes, as in dash)."""

from __future__ import annotations

import re
import stat as _stat
from collections.abc import Callable

from kubecis.audit.native.interp import ExitShell, Out, ReturnFunc, Shell, Stream, dec, enc
from kubecis.audit.native.parser import Unsupported

Builtin = Callable[[Shell, list[str], Stream, Out, Out], int]


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
            m = re.match(r"%([-+ #0]*)(\d*)(?:\.(\d+))?([sdibcxXou%])", fmt[i:])
            if not m:
                raise Unsupported(f"printf format {fmt[i:i + 3]!r}")
            i += m.end()
            conv = m.group(4)
            if conv == "%":
                out.append("%")
                continue
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
    if not re.fullmatch(r"[-+]?\d+", t):
        raise _TestError(f"Illegal number: {s}")
    return int(t)


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
        sh.diag(f"{name}: {e}", err)
        return 2
    return 0 if r else 1


def b_test(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    if "==" in argv[1:]:
        raise Unsupported("test ==")
    return run_test(sh, "test", argv[1:], err)


def b_bracket(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    if argv[-1] != "]":
        sh.diag("[: missing ]", err)
        return 2
    if "==" in argv[1:-1]:
        raise Unsupported("[ == ]")
    return run_test(sh, "[", argv[1:-1], err)


def b_dbracket(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    """busybox ash's ``[[``: test with a closing ``]]`` (words already expanded)."""
    if argv[-1] != "]]":
        sh.diag("[[: missing ]]", err)
        return 2
    return run_test(sh, "[[", argv[1:-1], err, bash=True)


def b_true(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    return 0


def b_false(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    return 1


def b_exit(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    if len(argv) > 1:
        if not argv[1].isdigit():
            sh.diag(f"exit: Illegal number: {argv[1]}", err)
            raise ExitShell(2)
        raise ExitShell(int(argv[1]) & 0xFF)
    raise ExitShell(sh.status)


def b_return(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    if sh.depth == 0:
        raise Unsupported("return outside a function")
    raise ReturnFunc(int(argv[1]) & 0xFF if len(argv) > 1 and argv[1].isdigit() else sh.status)


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
    return 0


def b_read(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    args = argv[1:]
    raw = False
    while args and args[0].startswith("-"):
        if args[0] != "-r":
            raise Unsupported(f"read {args[0]}")
        raw = True
        args = args[1:]
    names = args or ["REPLY"]
    line_b = fin.read_line()
    if line_b is None:
        for n in names:
            sh.vars[n] = ""
        return 1
    status = 0 if line_b.endswith(b"\n") else 1
    line = dec(line_b[:-1] if line_b.endswith(b"\n") else line_b)
    if not raw:
        line = re.sub(r"\\(.)", r"\1", line.replace("\\\n", ""))
    ifs = sh.vars.get("IFS", " \t\n")
    if ifs.strip(" \t\n"):
        raise Unsupported("read with non-blank IFS")
    if ifs:
        line = line.strip(ifs)
        parts = re.split(f"[{re.escape(ifs)}]+", line, maxsplit=len(names) - 1) if line else [""]
    else:
        parts = [line]
    for k, n in enumerate(names):
        sh.vars[n] = parts[k] if k < len(parts) else ""
    return status


def b_sh(sh: Shell, argv: list[str], fin: Stream, out: Out, err: Out) -> int:
    """``sh -c SCRIPT [NAME [ARG...]]``: interpret the inner script in a new shell."""
    if len(argv) < 2 or argv[1] != "-c":
        raise Unsupported(f"{argv[0]} without -c")
    if len(argv) < 3:
        err.write(enc(f"{argv[0]}: 0: -c requires an argument\n"))
        return 2
    if sh.depth > 10:
        raise Unsupported("nested shells too deep")
    inner = Shell(
        sh.host,
        sh.child_env(),
        argv[3] if len(argv) > 3 else argv[0],
        argv[4:],
        sh.cwd,
        sh.depth + 1,
    )
    inner.depth = sh.depth + 1
    saved_depth = inner.depth
    try:
        from kubecis.audit.native.parser import ShellSyntaxError, parse

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
}
SHELLS = {"sh", "/bin/sh", "/usr/bin/sh", "bash", "/bin/bash", "/usr/bin/bash", "ash", "/bin/ash"}
for _name in SHELLS:
    BUILTINS[_name] = b_sh

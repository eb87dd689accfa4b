"""``find``: GNU findutils' find in the forms audits use (tests, ``-exec``, ``-maxdepth``, ``-perm``).
"""

from __future__ import annotations

import re
import stat as _stat
from collections.abc import Callable, Iterator

from kubecis.audit.native.bounds import ascii_uint
from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.regex import glob_to_regex
from kubecis.audit.native.streams import Stream
from kubecis.audit.native.utilities.common import (
    errstr,
    shell_quote_always,
)
from kubecis.host.base import FileStat, NotInSnapshot

__all__ = ["u_find"]


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
                return self.ctx.run(argv, Stream(), self.ctx.out, self.ctx.err) == 0

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
            ctx.error(f"{shell_quote_always(start)}: {errstr(exc)}")
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
        if files and ctx.run(cmd + files, Stream(), ctx.out, ctx.err) != 0:
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
                yield "\0" + path, errstr(exc), s, depth
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

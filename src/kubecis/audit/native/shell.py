"""The shell core: runs a parsed script over a Host, with dash's builtins and a table of utilities.

:class:`Shell` is given its command table (name -> :class:`~kubecis.audit.native.context.Utility`) and the
audit's state (:class:`~kubecis.audit.native.context.AuditRun`); it never imports the utilities, and a
utility only sees the :class:`~kubecis.audit.native.context.Ctx` the shell builds for it.
"""

from __future__ import annotations

import posixpath
import re
import stat as _stat
from collections.abc import Mapping

from kubecis.audit.native.arith import ArithError, eval_arith
from kubecis.audit.native.bounds import check_size
from kubecis.audit.native.builtins import BUILTINS, DASH_BUILTINS
from kubecis.audit.native.context import AuditRun, Ctx, Utility
from kubecis.audit.native.errors import Irreproducible, Unsupported
from kubecis.audit.native.flow import ExitShell, LoopControl, ReturnFunc
from kubecis.audit.native.parser import parse
from kubecis.audit.native.regex import glob_to_regex, has_glob
from kubecis.audit.native.streams import Out, Stream, dec, enc
from kubecis.audit.native.syntax import (
    AndOr,
    Arith,
    Case,
    CmdSub,
    Compound,
    For,
    FuncDef,
    Group,
    If,
    Lit,
    Node,
    Param,
    Pipeline,
    Redir,
    Seq,
    Simple,
    SyntaxErr,
    While,
    Word,
)
from kubecis.host.base import Host, NotInSnapshot

__all__ = ["STD_DIRS", "Shell"]

MAX_DEPTH = 20
_SPACE = re.compile(r"\s")  # str.isspace's characters
# Variables dash sets itself rather than taking from its environment.
_SHELL_OWN = frozenset({"IFS", "PPID", "PS1", "PS2", "PS4", "OPTIND", "PWD", "OLDPWD", "LINENO"})

# Directories whose utilities the table stands for (``/usr/bin/grep`` is ``grep``).
STD_DIRS = frozenset({"/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"})


class Shell:
    def __init__(
        self,
        host: Host,
        env: dict[str, str],
        arg0: str = "/bin/sh",
        args: list[str] | None = None,
        cwd: str = "/",
        depth: int = 0,
        *,
        commands: Mapping[str, Utility],
        audit: AuditRun | None = None,
    ) -> None:
        self.host = host
        self.commands = commands
        self.audit = audit if audit is not None else AuditRun()
        self.vars: dict[str, str] = dict(env)
        self.dropped: set[str] = set()  # names unset by the script: never read from the host's environment
        self.exported: set[str] = set(env)
        self.arg0 = arg0
        self.args = list(args or [])
        self.cwd = cwd
        self.status = 0
        self.depth = depth
        self.functions: dict[str, Node] = {}
        self.line = 1
        self._subst_status: int | None = None
        self.loop_depth = 0
        self.locals: list[dict[str, str | None]] = []
        self.errexit = False  # set -e
        self.tested = 0  # >0 while running a condition (if/while, non-last of && ||, !): set -e ignores it

    # --- helpers ---------------------------------------------------------------
    def abspath(self, p: str) -> str:
        return p if p.startswith("/") else posixpath.join(self.cwd, p)

    def diag(self, msg: str, err: Out) -> None:
        err.write(enc(f"{self.arg0}: {self.line}: {msg}\n"))

    def subshell(self) -> Shell:
        sh = Shell(self.host, {}, self.arg0, self.args, self.cwd, self.depth, commands=self.commands, audit=self.audit)
        sh.vars = dict(self.vars)
        sh.dropped = set(self.dropped)
        sh.exported = set(self.exported)
        sh.functions = dict(self.functions)
        sh.status = self.status
        sh.line = self.line
        sh.locals = [dict(f) for f in self.locals]
        sh.errexit = self.errexit
        sh.tested = self.tested
        return sh

    def nested(self, arg0: str, args: list[str]) -> Shell:
        """A new shell started by this one (``sh -c``): the exported environment, same table and audit."""
        return Shell(self.host, self.child_env(), arg0, args, self.cwd, self.depth + 1, commands=self.commands,
                     audit=self.audit)

    def child_env(self) -> dict[str, str]:
        return {k: v for k, v in self.vars.items() if k in self.exported}

    def env_value(self, name: str) -> str | None:
        """An environment variable as a command this shell starts sees it: the shell's value when exported (a
        variable /bin/sh inherited is exported), else the inherited one unless the script unset it."""
        inherited = None if name in self.dropped or name in _SHELL_OWN else self.host.getenv(name)
        if name in self.vars:
            return self.vars[name] if name in self.exported or inherited is not None else None
        return inherited

    # --- running ---------------------------------------------------------------
    def run_script(self, script: str, stdin: Stream, out: Out, err: Out) -> int:
        node = parse(script)
        try:
            return self.execute(node, stdin, out, err)
        except ExitShell as e:
            return e.status

    def execute(self, node: Node, stdin: Stream, out: Out, err: Out) -> int:
        budget = self.audit.budget
        if budget is not None:
            budget.step()
        if isinstance(node, Seq):
            st = 0
            for item in node.items:
                st = self.execute(item, stdin, out, err)
            self.status = st
            return st
        if isinstance(node, Simple):
            st = self.run_simple(node, stdin, out, err)
        elif isinstance(node, Pipeline):
            st = self.run_pipeline(node, stdin, out, err)
        elif isinstance(node, AndOr):
            st = self.cond(node.first, stdin, out, err)
            for k, (op, nxt) in enumerate(node.rest):
                if (op == "&&" and st == 0) or (op == "||" and st != 0):
                    if k == len(node.rest) - 1:
                        st = self.execute(nxt, stdin, out, err)
                    else:
                        st = self.cond(nxt, stdin, out, err)
        elif isinstance(node, If):
            st = 0
            for cond, body in node.clauses:
                if self.cond(cond, stdin, out, err) == 0:
                    st = self.execute(body, stdin, out, err)
                    break
            else:
                st = self.execute(node.els, stdin, out, err) if node.els is not None else 0
        elif isinstance(node, For):
            st = 0
            words = node.words if node.words is not None else [Word([Param("@", quoted=True)])]
            values: list[str] = []
            for w in words:
                values.extend(self.expand(w, err))
            self.loop_depth += 1
            try:
                for v in values:
                    self.vars[node.var] = v
                    try:
                        st = self.execute(node.body, stdin, out, err)
                    except LoopControl as lc:
                        st = 0
                        if lc.n > 1:
                            lc.n -= 1
                            raise
                        if not lc.cont:
                            break
            finally:
                self.loop_depth -= 1
        elif isinstance(node, While):
            st = 0
            self.loop_depth += 1
            try:
                for _ in range(100000):
                    c = self.cond(node.cond, stdin, out, err)
                    if (c == 0) == node.until:
                        break
                    try:
                        st = self.execute(node.body, stdin, out, err)
                    except LoopControl as lc:
                        st = 0
                        if lc.n > 1:
                            lc.n -= 1
                            raise
                        if not lc.cont:
                            break
                else:
                    raise Unsupported("loop did not terminate")
            finally:
                self.loop_depth -= 1
        elif isinstance(node, Case):
            st = self.run_case(node, stdin, out, err)
        elif isinstance(node, SyntaxErr):
            err.write(enc(f"{self.arg0}: {node.line}: {node.msg}\n"))
            raise ExitShell(2)
        elif isinstance(node, Group):
            if node.subshell:
                sub = self.subshell()
                try:
                    st = sub.execute(node.body, stdin, out, err)
                except ExitShell as e:
                    st = e.status
                except LoopControl:
                    st = 0
            else:
                st = self.execute(node.body, stdin, out, err)
        elif isinstance(node, Compound):
            io = self.redirect(node.redirs, stdin, out, err)
            st = 2 if io is None else self.execute(node.cmd, *io)
        elif isinstance(node, FuncDef):
            self.functions[node.name] = node.body
            st = 0
        else:  # pragma: no cover - exhaustive
            raise Unsupported(type(node).__name__)
        self.status = st
        if (
            st
            and self.errexit
            and not self.tested
            and isinstance(node, Simple | Pipeline | Group | Compound)
            and not (isinstance(node, Pipeline) and node.negate)
            and not (isinstance(node, Group) and not node.subshell)
        ):
            raise ExitShell(st)
        return st

    def cond(self, node: Node, stdin: Stream, out: Out, err: Out) -> int:
        """Run a command whose status is tested: ``set -e`` does not apply inside it."""
        self.tested += 1
        try:
            return self.execute(node, stdin, out, err)
        finally:
            self.tested -= 1

    def run_pipeline(self, node: Pipeline, stdin: Stream, out: Out, err: Out) -> int:
        if node.negate:
            self.tested += 1
            try:
                st = self._run_pipeline(node, stdin, out, err)
            finally:
                self.tested -= 1
            return 0 if st else 1
        return self._run_pipeline(node, stdin, out, err)

    def _run_pipeline(self, node: Pipeline, stdin: Stream, out: Out, err: Out) -> int:
        cur_in = stdin
        st = 0
        n = len(node.cmds)
        for i, cmd in enumerate(node.cmds):
            last = i == n - 1
            dest = out if last else Out()
            if n > 1:
                sub = self.subshell()
                try:
                    st = sub.execute(cmd, cur_in, dest, err)
                except ExitShell as e:
                    st = e.status
                except LoopControl:
                    st = 0
            else:
                st = self.execute(cmd, cur_in, dest, err)
            if not last:
                cur_in = Stream(bytes(dest.buf))
        return st

    def redirect(self, redirs: list[Redir], stdin: Stream, out: Out, err: Out) -> tuple[Stream, Out, Out] | None:
        fds: dict[int, Out] = {1: out, 2: err}
        fin = stdin
        for r in redirs:
            if r.fd not in (0, 1, 2):
                raise Unsupported(f"redirection of fd {r.fd}")
            target = self.expand_nosplit(r.target, err)
            if r.op in (">", ">>"):
                if target != "/dev/null":
                    raise Unsupported("redirection to a file")
                fds[r.fd] = Out(null=True)
            elif r.op == ">&":
                if target not in ("1", "2"):
                    raise Unsupported(f"redirection >&{target}")
                fds[r.fd] = fds[int(target)]
            elif r.op == "<":
                if r.fd != 0:
                    raise Unsupported("input redirection of fd 1/2")
                try:
                    fin = Stream(self.host.read(self.abspath(target)))
                except OSError as exc:
                    why = "No such file" if isinstance(exc, FileNotFoundError) else exc.strerror
                    self.diag(f"cannot open {target}: {why}", err)
                    return None
            else:
                raise Unsupported(f"redirection {r.op}")
        return fin, fds[1], fds[2]

    def run_simple(self, node: Simple, stdin: Stream, out: Out, err: Out) -> int:
        self.line = node.line
        self._subst_status = None
        argv: list[str] = []
        for w in node.words:
            argv.extend(self.expand(w, err))
        assigns = [(name, self.expand_nosplit(w, err)) for name, w in node.assigns]
        io = self.redirect(node.redirs, stdin, out, err)
        if io is None:
            return 2
        fin, fout, ferr = io
        if not argv:
            for name, value in assigns:
                self.vars[name] = value
            return self._subst_status or 0
        if assigns:
            raise Unsupported("prefix assignment on a command")
        name = argv[0]
        if name in self.functions:
            if self.depth > MAX_DEPTH:
                raise Unsupported("function recursion")
            saved = self.args
            saved_loops = self.loop_depth
            self.args = argv[1:]
            self.depth += 1
            self.loop_depth = 0  # dash: break/continue in a function do not reach the caller's loops
            self.locals.append({})
            try:
                return self.execute(self.functions[name], fin, fout, ferr)
            except ReturnFunc as r:
                return r.status
            finally:
                self.args = saved
                self.depth -= 1
                self.loop_depth = saved_loops
                for var, old in self.locals.pop().items():
                    if old is None:
                        self.vars.pop(var, None)
                    else:
                        self.vars[var] = old
        if name in BUILTINS:
            return BUILTINS[name](self, argv, fin, fout, ferr)
        return self.run_utility(argv, fin, fout, ferr)

    def run_utility(self, argv: list[str], stdin: Stream, out: Out, err: Out) -> int:
        """Run ``argv[0]`` from the command table (never a builtin or function: ``xargs``/``find -exec`` too)."""
        name = argv[0]
        if _SPACE.search(name):
            self.diag(f"{name}: not found", err)
            return 127
        base = name
        if "/" in name:
            d, base = posixpath.split(name)
            if d not in STD_DIRS:
                if self._on_path(name):
                    raise Unsupported(f"command {name}")
                self.diag(f"{name}: not found", err)
                return 127
        fn = self.commands.get(base)
        if fn is None:
            if name in DASH_BUILTINS or self._on_path(name):
                raise Unsupported(f"command {base}")
            self.diag(f"{name}: not found", err)
            return 127
        try:
            return fn(self.ctx(name, stdin, out, err), argv[1:])
        except Irreproducible:
            if self.audit.dry_run:  # static coverage: the construct is supported; go on as if it failed
                return 1
            raise

    def ctx(self, prog: str, stdin: Stream, out: Out, err: Out) -> Ctx:
        """What a utility started by this shell as ``prog`` sees."""
        return Ctx(host=self.host, stdin=stdin, out=out, err=err, prog=prog, cwd=self.cwd, audit=self.audit,
                   env=self.env_value, environ=self.child_env, run=self.run_utility)

    def _on_path(self, name: str) -> bool:
        """Whether dash would find ``name`` (an existing file; we cannot run it, so the caller declines)."""
        if "\0" in name or not name:
            raise Unsupported("command name with a NUL byte")
        try:
            if "/" in name:
                return self.host.exists(self.abspath(name))
            for d in self.vars.get("PATH", "").split(":"):
                if self.host.exists(posixpath.join(self.abspath(d or "."), name)):
                    return True
        except (OSError, ValueError):
            raise Unsupported(f"command {name}") from None
        return False

    def run_case(self, node: Case, stdin: Stream, out: Out, err: Out) -> int:
        value = self.expand_nosplit(node.word, err)
        for pats, body in node.clauses:
            for pat in pats:
                segs = self.expand_pattern(pat, err)
                if re.fullmatch(glob_to_regex(segs), value, re.DOTALL):
                    return self.execute(body, stdin, out, err)
        return 0

    # --- expansion ---------------------------------------------------------------
    def param(self, p: Param, err: Out) -> str | None:
        n = p.name
        if n == "?":
            return str(self.status)
        if n == "#":
            return str(len(self.args))
        if n in ("@", "*"):
            return " ".join(self.args)
        if n == "0":
            return self.arg0
        if n.isdigit():
            i = int(n)
            return self.args[i - 1] if i <= len(self.args) else None
        if n in ("$", "!", "-"):
            raise Unsupported(f"special parameter ${n}")
        v = self.vars.get(n)
        if v is None and n not in self.dropped and n not in _SHELL_OWN:
            # /bin/sh starts with its parent's environment: the host's (live: this process's, as the shell
            # executor's children get; snapshot: as recorded; --root: none).
            v = self.host.getenv(n)
            if v is not None:
                self.vars[n] = v
                self.exported.add(n)
        return v

    def _param_value(self, p: Param, err: Out) -> str:
        if p.op == "bad":
            self.diag("Bad substitution", err)
            raise ExitShell(2)
        v = self.param(p, err)
        if p.op == "#" and p.arg is None:
            return str(len(v or ""))
        if not p.op:
            return v or ""
        if p.op in ("#", "##", "%", "%%"):
            return "" if v is None else self._param_strip(p, v, err)  # dash: no pattern expansion when unset
        null = v is None or (p.op.startswith(":") and v == "")
        base = p.op.lstrip(":")

        def arg() -> str:  # expanded only when used, as in dash
            return self.expand_nosplit(p.arg, err) if p.arg is not None else ""

        if base == "-":
            return arg() if null else (v or "")
        if base == "=":
            if null:
                if not re.fullmatch(r"[A-Za-z_]\w*", p.name):
                    raise Unsupported("assignment to special parameter")
                value = arg()
                self.vars[p.name] = value
                return value
            return v or ""
        if base == "+":
            return "" if null else arg()
        raise Unsupported(f"parameter operator {p.op}")

    def _param_strip(self, p: Param, v: str, err: Out) -> str:
        segs = self.expand_pattern(p.arg, err) if p.arg is not None else []
        rx = re.compile(glob_to_regex(segs), re.DOTALL)
        n = len(v)
        budget = self.audit.budget
        if p.op in ("#", "##"):
            ends = range(n + 1) if p.op == "#" else range(n, -1, -1)
            for k in ends:
                if budget is not None and not k & 0x3FF:
                    budget.check_time()
                if rx.fullmatch(v, 0, k):
                    return v[k:]
            return v
        starts = range(n, -1, -1) if p.op == "%" else range(n + 1)
        for k in starts:
            if budget is not None and not k & 0x3FF:
                budget.check_time()
            if rx.fullmatch(v, k, n):
                return v[:k]
        return v

    def expand_pattern(self, w: Word, err: Out) -> list[tuple[str, bool]]:
        """A word expanded as a pattern: (text, active) segments; quoted text is literal."""
        segs: list[tuple[str, bool]] = []
        for part in w.parts:
            if isinstance(part, Lit):
                segs.append((part.text, not part.quoted))
            else:
                segs.append((self._part_value(part, err), not part.quoted))
        return segs

    def _part_value(self, part: Param | CmdSub | Arith, err: Out) -> str:
        if isinstance(part, Param):
            return self._param_value(part, err)
        if isinstance(part, CmdSub):
            return self.command_subst(part.body, err)
        return self.arith(part, err)

    def arith(self, part: Arith, err: Out) -> str:
        text = self.expand_nosplit(part.word, err)
        try:
            return str(eval_arith(text, self.vars))
        except ArithError as e:
            self.diag(str(e), err)
            raise ExitShell(2) from None

    def command_subst(self, body: Node, err: Out) -> str:
        sub = self.subshell()
        o = Out()
        try:
            st = sub.execute(body, Stream(), o, err)
        except ExitShell as e:
            st = e.status
        except LoopControl:
            st = 0
        self._subst_status = st
        self.status = st
        return dec(bytes(o.buf)).rstrip("\n")

    def expand_nosplit(self, w: Word, err: Out) -> str:
        out: list[str] = []
        size = 0
        for part in w.parts:
            if isinstance(part, Lit):
                out.append(part.text)
            elif isinstance(part, Param):
                out.append(self._param_value(part, err))
            else:
                out.append(self._part_value(part, err))
            size += len(out[-1])
            check_size(size, "expanded word")
        return "".join(out)

    def expand(self, w: Word, err: Out) -> list[str]:
        """Expansion, field splitting, pathname expansion and quote removal."""
        if len(w.parts) == 1 and isinstance(w.parts[0], Lit):  # the usual word: one literal, nothing to expand
            lit = w.parts[0]
            if lit.quoted:
                return [lit.text]
            if lit.text and not ("*" in lit.text or "?" in lit.text or "[" in lit.text):
                return [lit.text]
        ifs = self.vars.get("IFS", " \t\n")
        if ifs.strip(" \t\n"):
            raise Unsupported("IFS with non-blank characters")
        fields: list[list[tuple[str, bool]]] = [[]]
        exists = [False]
        size = 0
        for part in w.parts:
            if isinstance(part, Lit):
                if part.text or part.quoted:
                    exists[-1] = True
                fields[-1].append((part.text, not part.quoted))
                continue
            value = self._part_value(part, err)
            size += len(value)
            check_size(size, "expanded word")
            if part.quoted:
                exists[-1] = True
                fields[-1].append((value, False))
                continue
            if not value:
                continue
            pieces = re.split(f"[{re.escape(ifs)}]+", value) if ifs else [value]
            for i, piece in enumerate(pieces):
                if i > 0:
                    fields.append([])
                    exists.append(False)
                if piece:
                    fields[-1].append((piece, True))
                    exists[-1] = True
        result: list[str] = []
        for segs, ok in zip(fields, exists, strict=True):
            if not ok:
                continue
            if has_glob(segs):
                matches = self.glob(segs)
                if matches:
                    result.extend(matches)
                    continue
            result.append("".join(t for t, _ in segs))
        return result

    def glob(self, segs: list[tuple[str, bool]]) -> list[str]:
        chars = [(c, a) for t, a in segs for c in t]
        comps: list[list[tuple[str, bool]]] = [[]]
        for c, a in chars:
            if c == "/":
                comps.append([])
            else:
                comps[-1].append((c, a))
        absolute = chars[0][0] == "/"
        prefixes = ["/" if absolute else ""]
        comp_list = comps[1:] if absolute else comps
        for idx, comp in enumerate(comp_list):
            last = idx == len(comp_list) - 1
            seg = [("".join(c for c, _ in comp), False)] if not has_glob([(c, a) for c, a in comp]) else None
            new: list[str] = []
            if seg is not None:
                name = seg[0][0]
                for pre in prefixes:
                    new.append(pre + name + ("" if last else "/"))
            else:
                rx = re.compile(glob_to_regex([(c, a) for c, a in comp], period=True), re.DOTALL)
                for pre in prefixes:
                    d = pre or "."
                    try:
                        entries = self.host.listdir(self.abspath(d))
                    except OSError:
                        continue
                    except NotInSnapshot:
                        raise
                    for e in sorted(entries):
                        if e.startswith(".") and not (comp and comp[0][0] == "."):
                            continue
                        if rx.fullmatch(e):
                            new.append(pre + e + ("" if last else "/"))
            prefixes = new
            if not prefixes:
                return []
        out: list[str] = []
        for p in prefixes:
            check = p.rstrip("/") if p != "/" else p
            try:
                st = self.host.stat(self.abspath(check), follow_symlinks=p.endswith("/"))
            except OSError:
                continue
            if p.endswith("/") and not _stat.S_ISDIR(st.mode):
                continue
            out.append(p)
        return out

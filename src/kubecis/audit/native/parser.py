"""Lexer and parser for the POSIX-shell subset used by benchmark audits.

Produces a small AST. Anything outside the subset raises :class:`Unsupported`
(with the construct named); malformed input raises :class:`ShellSyntaxError`.
"""

from __future__ import annotations

from kubecis.audit.native.errors import DashSyntaxError, ShellSyntaxError, Unsupported
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
    Part,
    Pipeline,
    Redir,
    Seq,
    Simple,
    SyntaxErr,
    While,
    Word,
)
from kubecis.records import dataclass

__all__ = ["MAX_SCRIPT", "Parser", "clear_memo", "parse", "parse_uncached"]


RESERVED = {"if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until", "{", "}", "!",
            "case", "esac"}
_OPS = ["&&", "||", ";;", "<<", ">>", "<&", ">&", "<>", ">|", "&", "|", ";", "(", ")", "<", ">"]
_META = set(" \t\n|&;<>()")
_SPECIAL_PARAMS = set("?#@*$!-0123456789")


@dataclass
class Tok:
    kind: str  # WORD OP NL EOF IO
    value: str = ""
    word: Word | None = None
    line: int = 1


def _is_name(s: str) -> bool:
    return bool(s) and (s[0].isalpha() or s[0] == "_") and all(c.isalnum() or c == "_" for c in s)


class Parser:
    def __init__(self, src: str, pos: int = 0, line: int = 1) -> None:
        self.src = src
        self.pos = pos
        self.line = line
        self._peeked: Tok | None = None

    # --- lexer ---------------------------------------------------------------
    def _skip_blanks(self) -> None:
        s = self.src
        while self.pos < len(s):
            c = s[self.pos]
            if c in " \t":
                self.pos += 1
            elif c == "\\" and s.startswith("\\\n", self.pos):
                self.pos += 2
                self.line += 1
            elif c == "#":
                while self.pos < len(s) and s[self.pos] != "\n":
                    self.pos += 1
            else:
                break

    def peek(self) -> Tok:
        if self._peeked is None:
            self._peeked = self._lex()
        return self._peeked

    def next(self) -> Tok:
        t = self.peek()
        self._peeked = None
        return t

    def _lex(self) -> Tok:
        self._skip_blanks()
        s = self.src
        line = self.line
        if self.pos >= len(s):
            return Tok("EOF", line=line)
        c = s[self.pos]
        if c == "\n":
            self.pos += 1
            self.line += 1
            return Tok("NL", "\n", line=line)
        for op in _OPS:
            if s.startswith(op, self.pos):
                self.pos += len(op)
                return Tok("OP", op, line=line)
        start = self.pos
        word = self._read_word()
        # IO number: digits directly followed by < or >
        raw = s[start : self.pos]
        if raw.isdigit() and self.pos < len(s) and s[self.pos] in "<>":
            return Tok("IO", raw, line=line)
        return Tok("WORD", raw, word=word, line=line)

    def _read_word(self) -> Word:
        s = self.src
        parts: list[Part] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                parts.append(Lit("".join(buf), False))
                buf.clear()

        while self.pos < len(s):
            c = s[self.pos]
            if c in _META:
                break
            if c == "\\":
                if self.pos + 1 >= len(s):
                    buf.append("\\")
                    self.pos += 1
                    continue
                nxt = s[self.pos + 1]
                self.pos += 2
                if nxt == "\n":
                    self.line += 1
                    continue
                flush()
                parts.append(Lit(nxt, True))
            elif c == "'":
                end = s.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated quoted string")
                flush()
                text = s[self.pos + 1 : end]
                self.line += text.count("\n")
                parts.append(Lit(text, True))
                self.pos = end + 1
            elif c == '"':
                flush()
                self.pos += 1
                parts.extend(self._read_dquote())
            elif c == "$":
                flush()
                parts.append(self._read_dollar(False))
            elif c == "`":
                flush()
                parts.append(self._read_backtick(False))
            else:
                buf.append(c)
                self.pos += 1
        flush()
        return Word(parts)

    def _read_dquote(self) -> list[Part]:
        s = self.src
        parts: list[Part] = [Lit("", True)]
        buf: list[str] = []

        def flush() -> None:
            if buf:
                parts.append(Lit("".join(buf), True))
                buf.clear()

        while True:
            if self.pos >= len(s):
                raise ShellSyntaxError("unterminated quoted string")
            c = s[self.pos]
            if c == '"':
                self.pos += 1
                break
            if c == "\\" and self.pos + 1 < len(s):
                nxt = s[self.pos + 1]
                if nxt in '$`"\\':
                    buf.append(nxt)
                    self.pos += 2
                    continue
                if nxt == "\n":
                    self.pos += 2
                    self.line += 1
                    continue
                buf.append("\\")
                self.pos += 1
                continue
            if c == "$":
                flush()
                parts.append(self._read_dollar(True))
                continue
            if c == "`":
                flush()
                parts.append(self._read_backtick(True))
                continue
            if c == "\n":
                self.line += 1
            buf.append(c)
            self.pos += 1
        flush()
        return parts

    def _read_dollar(self, quoted: bool) -> Part:
        s = self.src
        self.pos += 1  # $
        if self.pos >= len(s):
            return Lit("$", quoted)
        c = s[self.pos]
        if s.startswith("((", self.pos):
            return self._read_arith(quoted)
        if c == "(":
            self.pos += 1
            sub = Parser(s, self.pos, self.line)
            body = sub.parse_list(("}",), closing=")")
            tok = sub.next()
            if tok.kind != "OP" or tok.value != ")":
                raise ShellSyntaxError("missing ) in command substitution")
            self.pos = sub.pos
            self.line = sub.line
            return CmdSub(body, quoted)
        if c == "{":
            end = self.pos + 1
            j = end
            while j < len(s) and (s[j].isalnum() or s[j] == "_"):
                j += 1
            name = s[end:j]
            if not name and j < len(s) and s[j] == "#" and j + 1 < len(s) and s[j + 1] != "}":
                k = j + 1
                while k < len(s) and (s[k].isalnum() or s[k] == "_"):
                    k += 1
                if k < len(s) and s[k] == "}" and _is_name(s[j + 1 : k]):
                    self.pos = k + 1
                    return Param(s[j + 1 : k], "#", None, quoted)
                raise Unsupported("parameter expansion ${#...}")
            if not name and j < len(s) and s[j] in _SPECIAL_PARAMS:
                name = s[j]
                j += 1
            if not name:
                raise ShellSyntaxError("bad substitution")
            if j < len(s) and s[j] == "}":
                self.pos = j + 1
                return Param(name, "", None, quoted)
            for op in (":-", ":=", ":+", "-", "=", "+", "%%", "%", "##", "#"):
                if s.startswith(op, j):
                    self.pos = j + len(op)
                    arg = self._read_param_word(quoted, pattern=op[0] in "%#")
                    return Param(name, op, arg, quoted)
            if s.startswith(":?", j) or s.startswith("?", j):
                raise Unsupported(f"parameter expansion operator in ${{{s[end:j + 2]}...}}")
            # dash: "Bad substitution" when the word is expanded (not when parsed)
            self.pos = j
            self._read_param_word(quoted)
            return Param(name, "bad", None, quoted)
        if c.isalpha() or c == "_":
            j = self.pos
            while j < len(s) and (s[j].isalnum() or s[j] == "_"):
                j += 1
            name = s[self.pos : j]
            self.pos = j
            return Param(name, "", None, quoted)
        if c in _SPECIAL_PARAMS:
            self.pos += 1
            return Param(c, "", None, quoted)
        return Lit("$", quoted)

    def _read_arith(self, quoted: bool) -> Arith:
        """``$((...))`` from its first '(': the text up to the matching '))', as a word to expand."""
        s = self.src
        start = self.pos + 2
        depth = 0
        j = start
        while True:
            if j >= len(s):
                raise ShellSyntaxError("missing )) in arithmetic expansion")
            c = s[j]
            if c in "'\"`\\":
                raise Unsupported("quotes in arithmetic expansion")
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    if not s.startswith("))", j):
                        raise Unsupported("arithmetic expansion $((...) ...)")
                    break
                depth -= 1
            j += 1
        text = s[start:j]
        sub = Parser(text, 0, self.line)
        parts: list[Part] = []
        buf: list[str] = []
        while sub.pos < len(text):
            if text[sub.pos] == "$":
                if buf:
                    parts.append(Lit("".join(buf), True))
                    buf.clear()
                parts.append(sub._read_dollar(True))
            else:
                buf.append(text[sub.pos])
                sub.pos += 1
        if buf:
            parts.append(Lit("".join(buf), True))
        self.line += text.count("\n")
        self.pos = j + 2
        return Arith(Word(parts), quoted)

    def _read_param_word(self, quoted: bool, pattern: bool = False) -> Word:
        """The word after ${name:-...}, up to the matching }.

        In a pattern (``%``, ``#``) quotes and backslashes make characters literal even inside
        double quotes; elsewhere inside double quotes they are ordinary characters... as dash does.
        """
        s = self.src
        parts: list[Part] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                parts.append(Lit("".join(buf), quoted and not pattern))
                buf.clear()

        while True:
            if self.pos >= len(s):
                raise ShellSyntaxError("missing }")
            c = s[self.pos]
            if c == "}":
                self.pos += 1
                break
            if c == "$":
                flush()
                parts.append(self._read_dollar(quoted))
            elif c == "'" and (not quoted or pattern):
                end = s.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("unterminated quoted string")
                flush()
                parts.append(Lit(s[self.pos + 1 : end], True))
                self.pos = end + 1
            elif c == '"' and (not quoted or pattern):
                flush()
                self.pos += 1
                parts.extend(self._read_dquote())
            elif c == "\\" and self.pos + 1 < len(s):
                flush()
                parts.append(Lit(s[self.pos + 1], True))
                self.pos += 2
            elif c == "`":
                flush()
                parts.append(self._read_backtick(quoted))
            else:
                buf.append(c)
                self.pos += 1
        flush()
        return Word(parts)

    def _read_backtick(self, quoted: bool) -> Part:
        s = self.src
        j = self.pos + 1
        inner: list[str] = []
        while True:
            if j >= len(s):
                raise ShellSyntaxError("unterminated backquote")
            c = s[j]
            if c == "`":
                break
            if c == "\\" and j + 1 < len(s) and s[j + 1] in "$`\\":
                inner.append(s[j + 1])
                j += 2
                continue
            inner.append(c)
            j += 1
        text = "".join(inner)
        self.pos = j + 1
        sub = Parser(text, 0, self.line)
        body = sub.parse_program()
        self.line += text.count("\n")
        return CmdSub(body, quoted)

    # --- grammar -------------------------------------------------------------
    def _is_reserved(self, tok: Tok, *names: str) -> bool:
        if tok.kind != "WORD" or tok.word is None:
            return False
        lit = tok.word.literal()
        return lit in names if names else lit in RESERVED

    def _linebreak(self) -> None:
        while self.peek().kind == "NL":
            self.next()

    def parse_program(self) -> Node:
        body = self.parse_list(())
        tok = self.peek()
        if tok.kind != "EOF":
            raise ShellSyntaxError(f"syntax error near unexpected token {tok.value!r}")
        return body

    def parse_list(self, terminators: tuple[str, ...], closing: str | None = None) -> Seq:
        items: list[Node] = []
        while True:
            self._linebreak()
            tok = self.peek()
            if tok.kind == "EOF":
                break
            if tok.kind == "OP" and tok.value == ")" and closing == ")":
                break
            if tok.kind == "OP" and tok.value == ")":
                raise ShellSyntaxError("syntax error near unexpected token ')'")
            if self._is_reserved(tok, *terminators, "then", "elif", "else", "fi", "do", "done", "}", "esac"):
                break
            if tok.kind == "OP" and tok.value == ";;":
                if "esac" not in terminators:
                    raise ShellSyntaxError("syntax error near unexpected token ';;'")
                break
            items.append(self.parse_and_or())
            tok = self.peek()
            if tok.kind == "OP" and tok.value == ";":
                self.next()
            elif tok.kind == "OP" and tok.value == "&":
                raise Unsupported("background job &")
            elif tok.kind == "NL":
                self.next()
            elif tok.kind == "OP" and tok.value == ";;" and "esac" in terminators:
                break
            elif not (
                tok.kind == "EOF"
                or (tok.kind == "OP" and tok.value in (")", ";;"))
                or self._is_reserved(tok, *terminators, "then", "elif", "else", "fi", "do", "done", "}", "esac")
            ):
                raise ShellSyntaxError(f"syntax error near unexpected token {tok.value!r}")
        return Seq(items)

    def parse_and_or(self) -> Node:
        first = self.parse_pipeline()
        rest: list[tuple[str, Node]] = []
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.value in ("&&", "||"):
                self.next()
                self._linebreak()
                self._command_start()
                rest.append((tok.value, self.parse_pipeline()))
            else:
                break
        return AndOr(first, rest) if rest else first

    def _command_start(self) -> None:
        """After | && ||: a word that cannot start a command is dash's 'Syntax error: "X" unexpected'."""
        t = self.peek()
        if (t.kind == "OP" and t.value in (")", ";;", ";", "&", "|", "&&", "||")) or self._is_reserved(
            t, "}", "fi", "done", "then", "else", "elif", "do", "esac", "in"
        ):
            raise DashSyntaxError(f'Syntax error: "{t.value}" unexpected', t.line)

    def parse_pipeline(self) -> Node:
        negate = False
        if self._is_reserved(self.peek(), "!"):
            self.next()
            negate = True
        cmds = [self.parse_command()]
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.value == "|":
                self.next()
                self._linebreak()
                self._command_start()
                cmds.append(self.parse_command())
            else:
                break
        if len(cmds) == 1 and not negate:
            return cmds[0]
        return Pipeline(cmds, negate)

    def _expect_reserved(self, name: str) -> None:
        self._linebreak()
        tok = self.next()
        if not self._is_reserved(tok, name):
            raise ShellSyntaxError(f"syntax error: expected {name!r}, got {tok.value!r}")

    def _body(self, terminators: tuple[str, ...], closing: str | None = None) -> Seq:
        """A compound command's list: dash rejects an empty one ("Syntax error: "done" unexpected")."""
        seq = self.parse_list(terminators, closing)
        if not seq.items:
            t = self.peek()
            if t.kind == "EOF":
                raise ShellSyntaxError("unexpected end of file")
            raise DashSyntaxError(f'Syntax error: "{t.value}" unexpected', t.line)
        return seq

    def parse_command(self) -> Node:
        tok = self.peek()
        if tok.kind == "EOF" or (tok.kind == "OP" and tok.value not in ("(", "<", ">", ">>", ">&", "<&")):
            raise ShellSyntaxError(f"syntax error near unexpected token {tok.value or 'end of file'!r}")
        cmd: Node
        if self._is_reserved(tok, "if"):
            self.next()
            clauses: list[tuple[Node, Node]] = []
            cond = self._body(("then",))
            self._expect_reserved("then")
            body = self._body(())
            clauses.append((cond, body))
            els: Node | None = None
            while True:
                t = self.next()
                if self._is_reserved(t, "elif"):
                    cond = self._body(("then",))
                    self._expect_reserved("then")
                    clauses.append((cond, self._body(())))
                elif self._is_reserved(t, "else"):
                    els = self._body(())
                    self._expect_reserved("fi")
                    break
                elif self._is_reserved(t, "fi"):
                    break
                else:
                    raise ShellSyntaxError(f"syntax error near {t.value!r}")
            cmd = If(clauses, els)
        elif self._is_reserved(tok, "for"):
            self.next()
            name_tok = self.next()
            if name_tok.kind != "WORD" or not _is_name(name_tok.value):
                raise ShellSyntaxError("bad for loop variable")
            words: list[Word] | None = None
            self._linebreak()
            if self._is_reserved(self.peek(), "in"):
                self.next()
                words = []
                while self.peek().kind == "WORD" and not self._is_reserved(self.peek(), "do"):
                    w = self.next().word
                    assert w is not None
                    words.append(w)
                t = self.peek()
                if (t.kind == "OP" and t.value == ";") or t.kind == "NL":
                    self.next()
            elif self.peek().kind == "OP" and self.peek().value == ";":
                self.next()
            self._expect_reserved("do")
            body = self._body(())
            self._expect_reserved("done")
            cmd = For(name_tok.value, words, body)
        elif self._is_reserved(tok, "while", "until"):
            self.next()
            cond = self._body(("do",))
            self._expect_reserved("do")
            body = self._body(())
            self._expect_reserved("done")
            cmd = While(cond, body, tok.value == "until")
        elif self._is_reserved(tok, "{"):
            self.next()
            body = self._body(())
            self._expect_reserved("}")
            cmd = Group(body, False)
        elif tok.kind == "OP" and tok.value == "(":
            self.next()
            body = self._body((), closing=")")
            t = self.next()
            if t.kind != "OP" or t.value != ")":
                raise ShellSyntaxError("missing )")
            cmd = Group(body, True)
        elif self._is_reserved(tok, "case"):
            cmd = self.parse_case()
        elif self._is_reserved(tok) and tok.value not in ("}",):
            raise ShellSyntaxError(f"syntax error near unexpected token {tok.value!r}")
        else:
            return self.parse_simple()
        redirs: list[Redir] = []
        while self._at_redir():
            redirs.append(self._parse_redir())
        return Compound(cmd, redirs) if redirs else cmd

    def parse_case(self) -> Case:
        self.next()
        wt = self.next()
        if wt.kind != "WORD" or wt.word is None:
            raise ShellSyntaxError("bad case word")
        self._linebreak()
        self._expect_reserved("in")
        clauses: list[tuple[list[Word], Node]] = []
        while True:
            self._linebreak()
            t = self.peek()
            if self._is_reserved(t, "esac"):
                self.next()
                break
            if t.kind == "OP" and t.value == "(":
                self.next()
            pats: list[Word] = []
            while True:
                pt = self.next()
                if pt.kind != "WORD" or pt.word is None:
                    raise ShellSyntaxError("bad case pattern")
                pats.append(pt.word)
                nt = self.next()
                if nt.kind == "OP" and nt.value == "|":
                    continue
                if nt.kind == "OP" and nt.value == ")":
                    break
                raise ShellSyntaxError("bad case pattern")
            body = self.parse_list(("esac",))
            clauses.append((pats, body))
            t = self.peek()
            if t.kind == "OP" and t.value == ";;":
                self.next()
                continue
            self._linebreak()
            self._expect_reserved("esac")
            break
        return Case(wt.word, clauses)

    def _at_redir(self) -> bool:
        t = self.peek()
        return t.kind == "IO" or (t.kind == "OP" and t.value in ("<", ">", ">>", ">&", "<&", ">|", "<<", "<>"))

    def _parse_redir(self) -> Redir:
        t = self.next()
        fd: int | None = None
        if t.kind == "IO":
            fd = int(t.value)
            t = self.next()
        op = t.value
        if op in ("<<", "<>"):
            raise Unsupported(f"redirection {op}")
        if op == ">|":
            op = ">"
        if fd is None:
            fd = 0 if op.startswith("<") else 1
        target = self.next()
        if target.kind == "OP" and target.value == "(":
            raise DashSyntaxError('Syntax error: "(" unexpected', target.line)
        if target.kind == "OP" and target.value in ("<", ">", ">>", "<&", ">&", "<>", ">|", "<<"):
            raise DashSyntaxError("Syntax error: redirection unexpected", target.line)
        if target.kind != "WORD" or target.word is None:
            raise ShellSyntaxError("syntax error: redirection without a target")
        return Redir(fd, op, target.word)

    def parse_simple(self) -> Node:
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirs: list[Redir] = []
        first_tok = self.peek()
        # dash numbers a command by the line its parser is on after the first token
        line = first_tok.line + (first_tok.value.count("\n") if first_tok.kind == "WORD" else 0)
        while True:
            tok = self.peek()
            if self._at_redir():
                redirs.append(self._parse_redir())
                continue
            if tok.kind != "WORD" or tok.word is None:
                break
            if not words:
                eq = tok.value.find("=")
                if eq > 0 and _is_name(tok.value[:eq]) and tok.word.parts:
                    first = tok.word.parts[0]
                    if isinstance(first, Lit) and not first.quoted and "=" in first.text:
                        self.next()
                        name, _, rest = first.text.partition("=")
                        value_parts: list[Part] = ([Lit(rest, False)] if rest else []) + tok.word.parts[1:]
                        assigns.append((name, Word(value_parts)))
                        continue
            self.next()
            words.append(tok.word)
            nt = self.peek()
            if len(words) == 1 and not assigns and nt.kind == "OP" and nt.value == "(":
                fname = tok.word.literal()
                if fname is None or not _is_name(fname):
                    raise ShellSyntaxError("syntax error near unexpected token '('")
                self.next()
                t2 = self.next()
                if t2.kind != "OP" or t2.value != ")":
                    raise ShellSyntaxError("syntax error in function definition")
                self._linebreak()
                body = self.parse_command()
                return FuncDef(fname, body)
        if not words and not assigns and not redirs:
            tok = self.peek()
            raise ShellSyntaxError(f"syntax error near unexpected token {tok.value or 'end of file'!r}")
        return Simple(assigns, words, redirs, line)


_PARSED: dict[str, Node] = {}
_PARSED_MAX = 4096
_MEMO_SCRIPT_MAX = 16 * 1024  # longer scripts are parsed every time (the memo stays small)
MAX_SCRIPT = 64 * 1024  # an audit script longer than this is not run natively (kube-bench's are under 2 KiB)


def clear_memo() -> None:
    """Forget every memoised parse (benchmarks measure cold parsing)."""
    _PARSED.clear()


def parse(script: str) -> Node:
    """:func:`parse_uncached`, memoised: the same audits are parsed for every node a process evaluates
    (snapshot replays, fleets). Parse trees are never modified by the interpreter."""
    node = _PARSED.get(script)
    if node is None:
        node = parse_uncached(script)
        if len(_PARSED) < _PARSED_MAX and len(script) <= _MEMO_SCRIPT_MAX:
            _PARSED[script] = node
    return node


def parse_uncached(script: str) -> Node:
    """Parse a whole script. Raises Unsupported (including ShellSyntaxError).

    A syntax error that dash reports (see :class:`DashSyntaxError`) ends the script with a
    :class:`SyntaxErr` node after the top-level commands parsed before it.
    """
    if len(script) > MAX_SCRIPT:
        raise Unsupported(f"script over {MAX_SCRIPT} bytes")
    p = Parser(script)
    items: list[Node] = []
    while True:
        unit: list[Node] = []  # dash parses a whole line (a ';'-separated list) before running it
        try:
            p._linebreak()
            while True:
                t = p.peek()
                if t.kind == "EOF":
                    break
                if (t.kind == "OP" and t.value in (")", ";;", ";", "&", "|", "&&", "||")) or p._is_reserved(
                    t, "}", "fi", "done", "then", "else", "elif", "do", "esac", "in"
                ):
                    raise DashSyntaxError(f'Syntax error: "{t.value}" unexpected', t.line)
                unit.append(p.parse_and_or())
                tok = p.peek()
                if tok.kind == "OP" and tok.value == ";":
                    p.next()
                    if p.peek().kind in ("NL", "EOF"):
                        break
                    continue
                if tok.kind == "OP" and tok.value == "&":
                    raise Unsupported("background job &")
                if tok.kind == "OP" and tok.value == "(":
                    raise DashSyntaxError('Syntax error: "(" unexpected', tok.line)
                if tok.kind not in ("NL", "EOF"):
                    raise ShellSyntaxError(f"syntax error near unexpected token {tok.value!r}")
                break
        except DashSyntaxError as e:
            items.append(SyntaxErr(e.msg, e.line))
            return Seq(items)
        items.extend(unit)
        if p.peek().kind == "EOF":
            return Seq(items)
        p.next()

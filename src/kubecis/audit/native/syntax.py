"""The AST of the POSIX-shell subset benchmark audits use (built by :mod:`~kubecis.audit.native.parser`).

Plain slotted classes compared by value (dataclasses would be built on every start of ``kubecis run``).
"""

from __future__ import annotations

__all__ = ["AndOr", "Arith", "Case", "CmdSub", "Compound", "For", "FuncDef", "Group", "If", "Lit", "Node", "Param",
           "Part", "Pipeline", "Redir", "Seq", "Simple", "SyntaxErr", "While", "Word"]



class _Node:
    """Value semantics for the AST's slotted classes (each lists its fields in ``_FIELDS``)."""

    __slots__ = ()
    _FIELDS: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, n) == getattr(other, n) for n in self._FIELDS)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._FIELDS)})"


class Lit(_Node):
    __slots__ = _FIELDS = ("text", "quoted")

    def __init__(self, text: str, quoted: bool) -> None:
        self.text = text
        self.quoted = quoted


class Param(_Node):
    __slots__ = _FIELDS = ("name", "op", "arg", "quoted")

    def __init__(self, name: str, op: str = "", arg: Word | None = None, quoted: bool = False) -> None:
        self.name = name
        self.op = op
        self.arg = arg
        self.quoted = quoted


class Arith(_Node):
    """``$((expr))``: the expression text is expanded (like a double-quoted word), then evaluated."""

    __slots__ = _FIELDS = ("word", "quoted")

    def __init__(self, word: Word, quoted: bool = False) -> None:
        self.word = word
        self.quoted = quoted



class CmdSub(_Node):
    __slots__ = _FIELDS = ("body", "quoted")

    def __init__(self, body: Node, quoted: bool = False) -> None:
        self.body = body
        self.quoted = quoted


Part = Lit | Param | CmdSub | Arith


class Word(_Node):
    __slots__ = _FIELDS = ("parts",)

    def __init__(self, parts: list[Part] | None = None) -> None:
        self.parts: list[Part] = parts if parts is not None else []

    def literal(self) -> str | None:
        """The text if the word is one unquoted literal (reserved-word check), else None."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit) and not self.parts[0].quoted:
            return self.parts[0].text
        return None


class Redir(_Node):
    __slots__ = _FIELDS = ("fd", "op", "target")

    def __init__(self, fd: int, op: str, target: Word) -> None:
        self.fd = fd
        self.op = op
        self.target = target


class Simple(_Node):
    __slots__ = _FIELDS = ("assigns", "words", "redirs", "line")

    def __init__(self, assigns: list[tuple[str, Word]], words: list[Word], redirs: list[Redir], line: int) -> None:
        self.assigns = assigns
        self.words = words
        self.redirs = redirs
        self.line = line


class Pipeline(_Node):
    __slots__ = _FIELDS = ("cmds", "negate")

    def __init__(self, cmds: list[Node], negate: bool = False) -> None:
        self.cmds = cmds
        self.negate = negate


class AndOr(_Node):
    __slots__ = _FIELDS = ("first", "rest")

    def __init__(self, first: Node, rest: list[tuple[str, Node]]) -> None:
        self.first = first
        self.rest = rest


class Seq(_Node):
    __slots__ = _FIELDS = ("items",)

    def __init__(self, items: list[Node]) -> None:
        self.items = items


class If(_Node):
    __slots__ = _FIELDS = ("clauses", "els")

    def __init__(self, clauses: list[tuple[Node, Node]], els: Node | None) -> None:
        self.clauses = clauses
        self.els = els


class For(_Node):
    __slots__ = _FIELDS = ("var", "words", "body")

    def __init__(self, var: str, words: list[Word] | None, body: Node) -> None:
        self.var = var
        self.words = words
        self.body = body


class While(_Node):
    __slots__ = _FIELDS = ("cond", "body", "until")

    def __init__(self, cond: Node, body: Node, until: bool) -> None:
        self.cond = cond
        self.body = body
        self.until = until


class Group(_Node):
    __slots__ = _FIELDS = ("body", "subshell")

    def __init__(self, body: Node, subshell: bool) -> None:
        self.body = body
        self.subshell = subshell


class Compound(_Node):
    __slots__ = _FIELDS = ("cmd", "redirs")

    def __init__(self, cmd: Node, redirs: list[Redir]) -> None:
        self.cmd = cmd
        self.redirs = redirs


class FuncDef(_Node):
    __slots__ = _FIELDS = ("name", "body")

    def __init__(self, name: str, body: Node) -> None:
        self.name = name
        self.body = body


class Case(_Node):
    __slots__ = _FIELDS = ("word", "clauses")

    def __init__(self, word: Word, clauses: list[tuple[list[Word], Node]]) -> None:
        self.word = word
        self.clauses = clauses


class SyntaxErr(_Node):
    """dash parses and runs one top-level command at a time: commands before a syntax error still run."""

    __slots__ = _FIELDS = ("msg", "line")

    def __init__(self, msg: str, line: int) -> None:
        self.msg = msg
        self.line = line


Node = Simple | Pipeline | AndOr | Seq | If | For | While | Group | Compound | FuncDef | Case | SyntaxErr

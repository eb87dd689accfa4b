"""The AST of the POSIX-shell subset benchmark audits use (built by :mod:`~kubecis.audit.native.parser`)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["AndOr", "Arith", "Case", "CmdSub", "Compound", "For", "FuncDef", "Group", "If", "Lit", "Node", "Param",
           "Part", "Pipeline", "Redir", "Seq", "Simple", "SyntaxErr", "While", "Word"]


@dataclass
class Lit:
    text: str
    quoted: bool


@dataclass
class Param:
    name: str
    op: str = ""  # "", ":-", "-", ":=", "=", ":+", "+", "#" (length), "%", "%%", "#", "##", "bad"
    arg: Word | None = None
    quoted: bool = False


@dataclass
class Arith:
    """``$((expr))``: the expression text is expanded (like a double-quoted word), then evaluated."""

    word: Word
    quoted: bool = False


@dataclass
class CmdSub:
    body: Node
    quoted: bool = False


Part = Lit | Param | CmdSub | Arith


@dataclass
class Word:
    parts: list[Part] = field(default_factory=list)

    def literal(self) -> str | None:
        """The text if the word is one unquoted literal (reserved-word check), else None."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit) and not self.parts[0].quoted:
            return self.parts[0].text
        return None


@dataclass
class Redir:
    fd: int
    op: str  # > >> < >& <&
    target: Word


@dataclass
class Simple:
    assigns: list[tuple[str, Word]]
    words: list[Word]
    redirs: list[Redir]
    line: int


@dataclass
class Pipeline:
    cmds: list[Node]
    negate: bool = False


@dataclass
class AndOr:
    first: Node
    rest: list[tuple[str, Node]]


@dataclass
class Seq:
    items: list[Node]


@dataclass
class If:
    clauses: list[tuple[Node, Node]]
    els: Node | None


@dataclass
class For:
    var: str
    words: list[Word] | None
    body: Node


@dataclass
class While:
    cond: Node
    body: Node
    until: bool


@dataclass
class Group:
    body: Node
    subshell: bool


@dataclass
class Compound:
    cmd: Node
    redirs: list[Redir]


@dataclass
class FuncDef:
    name: str
    body: Node


@dataclass
class Case:
    word: Word
    clauses: list[tuple[list[Word], Node]]


@dataclass
class SyntaxErr:
    """dash parses and runs one top-level command at a time: commands before a syntax error still run."""

    msg: str
    line: int


Node = Simple | Pipeline | AndOr | Seq | If | For | While | Group | Compound | FuncDef | Case | SyntaxErr

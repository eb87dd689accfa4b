"""Static coverage: whether the native executor supports a script, without a node (``kubecis audits coverage``).

The script is parsed and every command name checked against the builtins and the utilities table; then it is
dry-run on an empty host against an empty cluster, so that option forms a utility declines are found too.
"""

from __future__ import annotations

from kubecis.audit.base import internal_error_reason
from kubecis.audit.native.builtins import BUILTINS, SHELLS
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.executor import PREFIX, NativeExecutor
from kubecis.audit.native.parser import parse
from kubecis.audit.native.shell import STD_DIRS
from kubecis.audit.native.syntax import (
    AndOr,
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
    Seq,
    Simple,
    While,
    Word,
)
from kubecis.audit.native.utilities import UTILITIES
from kubecis.host.base import FileStat, Process

__all__ = ["EmptyHost", "unsupported_reason"]


class EmptyHost:
    """A node with nothing on it: used to dry-run scripts for static coverage."""

    name = "empty"

    def processes(self) -> list[Process]:
        return []

    def environ(self, pid: int) -> bytes:
        raise FileNotFoundError(2, "No such file or directory", f"/proc/{pid}/environ")

    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
        if path == "/":
            return FileStat(mode=0o40755, uid=0, gid=0, size=0)
        raise FileNotFoundError(2, "No such file or directory", path)

    def read(self, path: str) -> bytes:
        raise FileNotFoundError(2, "No such file or directory", path)

    def listdir(self, path: str) -> list[str]:
        if path == "/":
            return []
        raise FileNotFoundError(2, "No such file or directory", path)

    def readlink(self, path: str) -> str:
        raise FileNotFoundError(2, "No such file or directory", path)

    def exists(self, path: str) -> bool:
        return path == "/"

    def user_name(self, uid: int) -> str | None:
        return None

    def group_name(self, gid: int) -> str | None:
        return None

    def getenv(self, name: str) -> str | None:
        return None


def _words_of(node: Node) -> list[Word]:
    out: list[Word] = []
    if isinstance(node, Simple):
        out.extend(node.words)
        out.extend(w for _, w in node.assigns)
        out.extend(r.target for r in node.redirs)
    return out


def _walk(node: Node) -> list[Node]:
    nodes: list[Node] = [node]
    if isinstance(node, Seq):
        for n in node.items:
            nodes.extend(_walk(n))
    elif isinstance(node, Pipeline):
        for n in node.cmds:
            nodes.extend(_walk(n))
    elif isinstance(node, AndOr):
        nodes.extend(_walk(node.first))
        for _, n in node.rest:
            nodes.extend(_walk(n))
    elif isinstance(node, If):
        for c, b in node.clauses:
            nodes.extend(_walk(c))
            nodes.extend(_walk(b))
        if node.els is not None:
            nodes.extend(_walk(node.els))
    elif isinstance(node, For | While):
        if isinstance(node, While):
            nodes.extend(_walk(node.cond))
        nodes.extend(_walk(node.body))
    elif isinstance(node, Group | FuncDef):
        nodes.extend(_walk(node.body))
    elif isinstance(node, Compound):
        nodes.extend(_walk(node.cmd))
    for w in _words_of(node):
        for p in w.parts:
            if isinstance(p, CmdSub):
                nodes.extend(_walk(p.body))
            elif isinstance(p, Param) and p.arg is not None:
                for q in p.arg.parts:
                    if isinstance(q, CmdSub):
                        nodes.extend(_walk(q.body))
    return nodes


def _static(script: str, depth: int = 0) -> str | None:
    node = parse(script)
    funcs = {n.name for n in _walk(node) if isinstance(n, FuncDef)}
    for n in _walk(node):
        if not isinstance(n, Simple) or not n.words:
            continue
        first = n.words[0]
        if not all(isinstance(p, Lit) for p in first.parts):
            continue
        name = "".join(p.text for p in first.parts if isinstance(p, Lit))
        if name in funcs or any(c.isspace() for c in name):
            continue
        if name in SHELLS:
            if len(n.words) >= 3 and all(isinstance(p, Lit) for p in n.words[2].parts) and depth < 5:
                inner = "".join(p.text for p in n.words[2].parts if isinstance(p, Lit))
                r = _static(inner, depth + 1)
                if r:
                    return r
            continue
        if name in BUILTINS:
            continue
        base = name
        if "/" in name:
            d, _, base = name.rpartition("/")
            if (d or "/") not in STD_DIRS:
                return f"command {name}"
        if base not in UTILITIES:
            return f"command {base}"
        if base == "openssl":
            sub = n.words[1].parts if len(n.words) > 1 else []
            if "".join(p.text for p in sub if isinstance(p, Lit)) != "x509":
                return "openssl subcommand other than x509"
        if base == "xargs" or base == "find":
            words = n.words[1:]
            lits = ["".join(p.text for p in w.parts if isinstance(p, Lit)) for w in words]
            if base == "xargs":
                for k, t in enumerate(lits):
                    if t.startswith("-"):
                        if t in ("-I", "-L", "-n"):
                            continue
                        continue
                    if k > 0 and lits[k - 1] in ("-I", "-L", "-n"):
                        continue
                    if t not in UTILITIES:
                        return f"command {t} (via xargs)"
                    break
            else:
                for k, t in enumerate(lits):
                    if t == "-exec" and k + 1 < len(lits) and lits[k + 1] not in UTILITIES:
                        return f"command {lits[k + 1]} (via find -exec)"
    return None


def unsupported_reason(script: str) -> str | None:
    """None when the native executor fully supports ``script``, else the reason."""
    if not script.strip():
        return None
    try:
        r = _static(script)
    except Unsupported as exc:
        return str(exc)
    except RecursionError:
        return "nesting too deep"
    except Exception as exc:  # coverage reports a bug as a reason, like the executor does
        return internal_error_reason(exc)
    if r:
        return r
    from kubecis.host.cluster import EmptyCluster

    res = NativeExecutor(EmptyHost(), cluster=EmptyCluster(), dry_run=True).run(script)
    if res.not_run:
        return res.not_run.removeprefix(PREFIX)
    return None

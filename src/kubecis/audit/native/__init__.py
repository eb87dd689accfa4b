"""The native executor: benchmark audits interpreted in-process over a Host.

No process is ever spawned. Scripts using anything outside the implemented shell
subset and utilities give ``AuditResult(not_run="audit not supported natively: ...")``.

Every run is bounded (:class:`~kubecis.audit.native.interp.Budget`: commands, wall time,
data size); an audit over a bound is not evaluated (``not_run`` says which bound). Any
other exception escaping the interpreter is a bug, reported as ``not_run="internal
error in audit: <type>: <message>"`` rather than aborting the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from kubecis.audit.base import MAX_OUTPUT_BYTES, AuditResult, AuditUndecided, internal_error_reason
from kubecis.audit.native.interp import (
    Budget,
    LimitExceeded,
    NotInSnapshot,
    Out,
    Shell,
    Stream,
    current_budget,
    dec,
    dry_run,
    unavailable,
)
from kubecis.audit.native.parser import (
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
    Unsupported,
    While,
    Word,
    parse,
)
from kubecis.errors import HostError
from kubecis.host.base import FileStat, Host, Process
from kubecis.host.cluster import Cluster, EmptyCluster, current_cluster

__all__ = ["NativeExecutor", "unsupported_reason"]

PREFIX = "audit not supported natively: "
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class NativeExecutor:
    name = "native"

    def __init__(
        self,
        host: Host,
        env: Mapping[str, str] | None = None,
        cwd: str = "/",
        cluster: Cluster | None = None,
        timeout: float | None = None,
    ) -> None:
        self.host = host
        self.env = dict(env) if env is not None else {"PATH": DEFAULT_PATH}
        self.cwd = cwd
        self.cluster = cluster  # what native kubectl/oc talk to; None: kubectl with no configuration
        self.timeout = timeout  # wall time one audit may take; None: interp.MAX_SECONDS

    def run(self, script: str) -> AuditResult:
        token = current_cluster.set(self.cluster)
        budget = current_budget.set(Budget(seconds=self.timeout))
        facts: dict[tuple[str, int], str] = {}
        ftoken = unavailable.set(facts)
        try:
            res = self._run(script)
        except LimitExceeded as exc:
            return AuditResult("", 0, self.name, not_run=f"audit exceeds the native interpreter's bounds: {exc}")
        except Exception as exc:  # a bug in one audit must not abort the run
            return AuditResult("", 0, self.name, not_run=internal_error_reason(exc))
        finally:
            unavailable.reset(ftoken)
            current_budget.reset(budget)
            current_cluster.reset(token)
        if facts and not res.not_run and not dry_run.get():
            # the output is what the tool prints (UNKNOWN), but the check cannot be evaluated on it
            res = dataclasses.replace(res, not_run="; ".join(facts.values()))
        return res

    def _run(self, script: str) -> AuditResult:
        if not script.strip():
            return AuditResult("", 0, self.name)
        shell = Shell(self.host, self.env, "/bin/sh", [], self.cwd)
        combined = Out()
        try:
            status = shell.run_script(script, Stream(), combined, combined)
        except Unsupported as exc:
            return AuditResult("", 0, self.name, not_run=PREFIX + str(exc))
        except NotInSnapshot as exc:
            return AuditResult("", 0, self.name, not_run=f"not in snapshot: {exc}")
        except AuditUndecided as exc:
            return AuditResult("", 0, self.name, not_run=str(exc))
        except (HostError, OSError) as exc:
            return AuditResult("", 0, self.name, not_run=f"host error: {exc}")
        except RecursionError:
            return AuditResult("", 0, self.name, not_run=PREFIX + "nesting too deep")
        data = bytes(combined.buf)
        if len(data) > MAX_OUTPUT_BYTES:
            return AuditResult("", status, self.name, not_run=f"audit output exceeds {MAX_OUTPUT_BYTES} bytes")
        return AuditResult(dec(data).encode("utf-8", "replace").decode("utf-8"), status, self.name)


class _EmptyHost:
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
    from kubecis.audit.native.builtins import BUILTINS, SHELLS
    from kubecis.audit.native.commands import UTILITIES
    from kubecis.audit.native.interp import _STD_DIRS

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
            if (d or "/") not in _STD_DIRS:
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
    token = dry_run.set(True)
    try:
        res = NativeExecutor(_EmptyHost(), cluster=EmptyCluster()).run(script)
    finally:
        dry_run.reset(token)
    if res.not_run:
        return res.not_run.removeprefix(PREFIX)
    return None

"""The shape of the source tree: no import cycle, no oversized module, no private name imported across
packages, one error tree, and a pinned public API for the modules other code imports.

What "import" means here: the ``import``/``from ... import`` statements of a module, read with ``ast``.
Imports guarded by ``if TYPE_CHECKING:`` are ignored (they never run). Imports inside functions are lazy by
design (start-up: ``kubecis run`` imports only what a run needs) and are checked for private names but not
for cycles: a module-level cycle is the bug (half-initialised modules, order-dependent imports); a function
that imports a module which imports its own module at the top is an ordinary deferred dependency.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_LINES = 800


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(SRC.rglob("*.py")):
        parts = list(p.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _package_of(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(module).split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.dump(node.test)


def _imports(module: str) -> list[tuple[str, str | None, bool]]:
    """(imported module, imported name or None, at module level?) for each kubecis import of ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[tuple[str, str | None, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            here = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend((a.name, None, here) for a in child.names if a.name.startswith("kubecis"))
            elif isinstance(child, ast.ImportFrom):
                target = _absolute(module, child)
                if target.startswith("kubecis"):
                    for a in child.names:
                        sub = f"{target}.{a.name}"
                        found.append((sub, None, here) if sub in MODULES else (target, a.name, here))
            visit(child, here)

    visit(tree, True)
    return found


def _owner(name: str) -> str:
    """The module that ``kubecis.a.b`` names (a module, else its longest module prefix)."""
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _, top in _imports(m):
            if not top:
                continue
            t = _owner(target)
            graph[m].add(t)
            # importing a.b.c runs a/__init__ and a/b/__init__ first (unless m is inside them)
            parts = t.split(".")
            for k in range(1, len(parts)):
                parent = ".".join(parts[:k])
                if parent in MODULES and not m.startswith(parent + ".") and parent != m:
                    graph[m].add(parent)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in graph:
                continue
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_no_import_cycle_at_module_level() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_over_800_lines(module: str) -> None:
    n = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{MODULES[module].relative_to(SRC)}: {n} lines (split it by responsibility)"


def test_no_private_name_imported_across_packages() -> None:
    bad = []
    for m in MODULES:
        for target, name, _ in _imports(m):
            owner = _owner(target)
            private = (name or target.rpartition(".")[2]).startswith("_") and not (name or "").startswith("__")
            if private and _package_of(owner) != _package_of(m):
                bad.append(f"{m} imports {target}{'.' + name if name else ''}")
    assert bad == []


def test_every_exception_is_in_the_error_tree() -> None:
    """Every exception class defined in src/ is a KubecisError, a control-flow signal errors.py lists, or
    private to its module (a leading underscore, and never imported elsewhere)."""
    from kubecis.audit.native.flow import ShellSignal
    from kubecis.errors import KubecisError, Terminated

    outside = []
    for m, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
        if not names:
            continue
        mod = importlib.import_module(m)
        for name in names:
            cls = getattr(mod, name)
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                continue
            if issubclass(cls, KubecisError | ShellSignal | Terminated) or cls is ShellSignal:
                continue
            if name.startswith("_"):
                continue
            outside.append(f"{m}.{name}")
    assert outside == []


# The public API of the modules other code imports. A change here is a change for every caller: update
# the callers (and this list) in the same commit.
PUBLIC = {
    "kubecis.errors": ["AuditError", "BenchmarkError", "ConfigError", "DataError", "HostError", "KubecisError",
                       "LoadError", "OutputError", "SinkError", "StoreError", "Terminated", "ToolError", "UsageError",
                       "WaiverError"],
    "kubecis.golang": [],
    "kubecis.golang.errors": ["GoError", "JsonPathError", "NotReproduced", "RegexpError", "UnsupportedValueError"],
    "kubecis.golang.fmt": ["go_float", "go_quote", "sprint"],
    "kubecis.golang.json": ["go_json_float", "go_json_indent", "go_json_marshal", "go_json_string"],
    "kubecis.golang.jsonpath": ["Executor", "JsonPathError", "ListNode", "Rendered", "RootPointer", "check_syntax",
                                "parse", "print_value", "render"],
    "kubecis.golang.regexp": ["RegexpError", "compile_go", "translate"],
    "kubecis.golang.tabwriter": ["go_tabwriter"],
    "kubecis.golang.values": ["INVALID", "InvalidValue", "YamlMap", "go_type_name"],
    "kubecis.golang.yaml": ["Decoded", "YamlMap", "load_config", "load_json", "load_yaml", "resolve_plain"],
    "kubecis.golang.yamlemit": ["go_yaml"],
    "kubecis.audit.native": ["NativeExecutor", "unsupported_reason"],
    "kubecis.audit.native.bounds": ["Budget", "MAX_BUFFER", "MAX_DATA", "MAX_SECONDS", "MAX_STEPS", "ascii_uint",
                                    "check_size"],
    "kubecis.audit.native.context": ["AuditRun", "Ctx", "RunUtility", "Utility"],
    "kubecis.audit.native.errors": ["DashSyntaxError", "Irreproducible", "LimitExceeded", "ShellSyntaxError",
                                    "Unsupported"],
    "kubecis.audit.native.parser": ["MAX_SCRIPT", "Parser", "clear_memo", "parse", "parse_uncached"],
    "kubecis.audit.native.procps": ["escape", "escape_cmdline", "escape_comm", "escape_name", "ps_locale_utf8"],
    "kubecis.audit.native.shell": ["STD_DIRS", "Shell"],
    "kubecis.audit.native.static": ["EmptyHost", "unsupported_reason"],
    "kubecis.audit.native.streams": ["Out", "Stream", "TextSink", "dec", "enc"],
    "kubecis.audit.native.syntax": ["AndOr", "Arith", "Case", "CmdSub", "Compound", "For", "FuncDef", "Group", "If",
                                    "Lit", "Node", "Param", "Part", "Pipeline", "Redir", "Seq", "Simple", "SyntaxErr",
                                    "While", "Word"],
    "kubecis.audit.native.utilities": ["LazyUtility", "UTILITIES"],
    "kubecis.evaluate": ["ItemOutcome", "Outcome", "evaluate_item", "evaluate_tests"],
    "kubecis.host.cluster": ["APIDiscovery", "APIResource", "Cluster", "ClusterUnreachable", "EmptyCluster",
                             "LiveCluster", "MARKER", "NoCluster", "NotNative", "RecordingCluster", "SnapshotCluster",
                             "redact_api_body"],
    "kubecis.host.snapshot": ["FORMAT", "MARKER", "RecordingHost", "SnapshotHost", "VERSION", "redact"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_api_is_pinned(module: str) -> None:
    mod = importlib.import_module(module)
    exported = getattr(mod, "__all__", None)
    assert exported is not None, f"{module} has no __all__"
    assert sorted(exported) == PUBLIC[module]
    missing = [n for n in exported if not hasattr(mod, n)]
    assert missing == []


def test_every_utility_in_the_table_loads() -> None:
    from kubecis.audit.native.utilities import UTILITIES, LazyUtility

    for name, fn in UTILITIES.items():
        assert callable(fn.load() if isinstance(fn, LazyUtility) else fn), name

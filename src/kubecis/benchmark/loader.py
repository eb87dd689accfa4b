"""Load kube-bench controls files into the frozen model.

The field names, defaults and typing rules are kube-bench's (kube-bench-compat.md#definitions): keys are
case-sensitive, unknown keys are ignored, ``set`` defaults to true, a ``tests`` key
that is absent or null differs from one whose ``test_items`` list is empty.

Besides hard errors (:class:`~kubecis.errors.LoadError`, naming file:line), the
loader returns *diagnostics*: things kube-bench accepts silently but that are
almost certainly mistakes (an unknown compare op, an unknown ``bin_op``, a check
with a ``path`` test but no ``audit_config``). ``benchmarks validate`` shows them.
"""

from __future__ import annotations

import functools
from dataclasses import field
from pathlib import Path

import yaml

from kubecis.benchmark.model import Check, Compare, Controls, Group, TestItem, Tests
from kubecis.benchmark.yamlraw import (
    Doc,
    as_bool,
    as_str,
    compose,
    is_null,
    line_of,
    mapping,
    sequence,
)
from kubecis.errors import LoadError
from kubecis.records import dataclass
from kubecis.yamllimits import MAX_FILE_BYTES, YamlLimitError, read_file

KNOWN_OPS = frozenset(
    {"eq", "noteq", "gt", "gte", "lt", "lte", "has", "nothave", "regex", "valid_elements", "bitmask"}
)
KNOWN_BIN_OPS = frozenset({"", "and", "or"})
KNOWN_CHECK_TYPES = frozenset({"", "manual", "skip"})


@dataclass(frozen=True, slots=True)
class Diagnostic:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(slots=True)
class Loaded:
    controls: Controls
    diagnostics: list[Diagnostic] = field(default_factory=list)
    text: str = ""  # raw file text (kube-bench substitutes on it; we keep it for bin bookkeeping)


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """A YAML file's text: a regular file of at most ``limit`` bytes, UTF-8; else one LoadError line.

    A FIFO or a device given as a controls or config file is refused instead of hanging the run.
    """
    name = str(path)
    try:
        data = read_file(path, limit)
    except FileNotFoundError:
        raise LoadError(name, "no such file") from None
    except IsADirectoryError:
        raise LoadError(name, "is a directory, expected a YAML file") from None
    except OSError as e:
        raise LoadError(name, f"cannot read: {e.strerror or e}") from None
    except YamlLimitError as e:
        raise LoadError(name, e.message) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LoadError(name, f"not UTF-8 text (byte {e.start})") from None


def load_controls(path: Path, expected_type: str | None = None) -> Loaded:
    """Load one controls file. ``expected_type`` is the target name the file must declare.

    Parsed files are cached by (path, mtime, size): evaluating many snapshots against the same
    definitions parses each file once. The result is immutable apart from its diagnostics list.
    """
    try:
        st = path.stat()
    except OSError:
        return parse_controls(read_text(path), str(path), expected_type)  # read_text raises the right error
    return _load_cached(str(path), st.st_mtime_ns, st.st_size, expected_type)


@functools.lru_cache(maxsize=256)
def _load_cached(path: str, mtime_ns: int, size: int, expected_type: str | None) -> Loaded:
    from kubecis.benchmark import defcache

    text = read_text(Path(path))
    hit = defcache.load(path, text, expected_type)
    if hit is not None:
        return hit
    loaded = parse_controls(text, path, expected_type)
    defcache.store(path, expected_type, loaded)
    return loaded


def parse_controls(text: str, path: str, expected_type: str | None = None) -> Loaded:
    doc = compose(text, path)
    diags: list[Diagnostic] = []
    top = mapping(doc, doc.root, "controls file")
    ctype = as_str(doc, top.get("type"), "type")
    if expected_type is not None and ctype != expected_type:
        line = line_of(top["type"]) if "type" in top else 1
        raise LoadError(
            path,
            f"non-{expected_type} controls file specified: its type is {ctype!r}, "
            f"but the file name says {expected_type!r}",
            line,
        )
    groups = tuple(_group(doc, g, diags) for g in sequence(doc, top.get("groups"), "groups"))
    controls = Controls(
        id=as_str(doc, top.get("id"), "id"),
        version=as_str(doc, top.get("version"), "version"),
        text=as_str(doc, top.get("text"), "text"),
        type=ctype,
        groups=groups,
        source=path,
    )
    return Loaded(controls, diags, text)


def _group(doc: Doc, node: yaml.Node, diags: list[Diagnostic]) -> Group:
    m = mapping(doc, node, "group")
    return Group(
        id=as_str(doc, m.get("id"), "group id"),
        text=as_str(doc, m.get("text"), "group text"),
        type=as_str(doc, m.get("type"), "group type"),
        checks=tuple(_check(doc, c, diags) for c in sequence(doc, m.get("checks"), "checks")),
        line=line_of(node),
    )


def _check(doc: Doc, node: yaml.Node, diags: list[Diagnostic]) -> Check:
    m = mapping(doc, node, "check")
    cid = as_str(doc, m.get("id"), "check id")
    tests_node = m.get("tests")
    tests: Tests | None = None
    if tests_node is not None and not is_null(tests_node):
        tm = mapping(doc, tests_node, f"check {cid}: tests")
        bin_op = as_str(doc, tm.get("bin_op"), f"check {cid}: bin_op")
        if bin_op not in KNOWN_BIN_OPS:
            diags.append(Diagnostic(doc.path, line_of(tm["bin_op"]),
                                    f"check {cid}: unknown bin_op {bin_op!r} (expected and/or); "
                                    "the check cannot pass"))
        items = tuple(_item(doc, i, cid, diags) for i in sequence(doc, tm.get("test_items"),
                                                                  f"check {cid}: test_items"))
        tests = Tests(bin_op=bin_op, items=items)
    ctype = as_str(doc, m.get("type"), f"check {cid}: type")
    if ctype.strip() not in KNOWN_CHECK_TYPES:
        diags.append(Diagnostic(doc.path, line_of(m["type"]),
                                f"check {cid}: unknown type {ctype!r} (kube-bench runs it as automated)"))
    check = Check(
        id=cid,
        text=as_str(doc, m.get("text"), f"check {cid}: text"),
        type=ctype,
        audit=as_str(doc, m.get("audit"), f"check {cid}: audit"),
        audit_config=as_str(doc, m.get("audit_config"), f"check {cid}: audit_config"),
        audit_env=as_str(doc, m.get("audit_env"), f"check {cid}: audit_env"),
        tests=tests,
        remediation=as_str(doc, m.get("remediation"), f"check {cid}: remediation"),
        scored=as_bool(doc, m.get("scored"), f"check {cid}: scored", False),
        use_multiple_values=as_bool(doc, m.get("use_multiple_values"),
                                    f"check {cid}: use_multiple_values", False),
        disable_env_testing=as_bool(doc, m.get("disableenvtesting"),
                                    f"check {cid}: disableenvtesting", False),
        fail_on_evidence=as_bool(doc, m.get("fail_on_evidence"), f"check {cid}: fail_on_evidence", False),
        line=line_of(node),
    )
    if (tests is not None and ctype.strip() == "" and any(i.path for i in tests.items)
            and not check.audit_config and not any(i.flag or i.env for i in tests.items)):
            diags.append(Diagnostic(doc.path, check.line,
                                    f"check {cid}: has a path test but no audit_config; "
                                    "kube-bench never evaluates it"))
    return check


def _item(doc: Doc, node: yaml.Node, cid: str, diags: list[Diagnostic]) -> TestItem:
    m = mapping(doc, node, f"check {cid}: test item")
    cmp_m = mapping(doc, m.get("compare"), f"check {cid}: compare")
    op = as_str(doc, cmp_m.get("op"), f"check {cid}: compare op")
    if op and op not in KNOWN_OPS:
        diags.append(Diagnostic(doc.path, line_of(cmp_m["op"]),
                                f"check {cid}: unknown compare op {op!r} "
                                f"(known: {', '.join(sorted(KNOWN_OPS))}); kube-bench treats the test "
                                "as failing"))
    return TestItem(
        flag=as_str(doc, m.get("flag"), f"check {cid}: flag"),
        path=as_str(doc, m.get("path"), f"check {cid}: path"),
        env=as_str(doc, m.get("env"), f"check {cid}: env"),
        set=as_bool(doc, m.get("set"), f"check {cid}: set", True),
        compare=Compare(op=op, value=as_str(doc, cmp_m.get("value"), f"check {cid}: compare value")),
    )


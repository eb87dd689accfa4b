"""Bounded YAML: size, nesting depth, alias expansion and recursive aliases.

PyYAML's C composer turns a document into a node graph in which an alias *is* the
anchored node, so composing costs time linear in the text. The cost of an alias
bomb (billion laughs, ``<<`` merge chains) appears only when that graph is walked as
a tree: constructing values, converting nodes, rendering a JSONPath. :func:`check_graph`
measures the tree the graph stands for, in one pass over its distinct nodes, and
refuses it before anything walks it:

* a recursive alias (an anchor whose value contains an alias to itself);
* nesting deeper than :data:`MAX_DEPTH` levels, aliases followed;
* more than :data:`MAX_NODES` nodes with aliases expanded;
* go-yaml v2's alias-ratio rule (``document contains excessive aliasing``): once a
  document expands to more than 1000 nodes of which more than 100 come from
  aliases, the share from aliases may be at most 99%, shrinking to 10% for
  documents of 400,000 to 4,000,000 nodes.

The size of the text is bounded by the callers: :data:`MAX_FILE_BYTES` for files
(controls files, config.yaml, kubeconfigs), the audit output limit for what checks read.
"""

from __future__ import annotations

import os
import stat
from typing import Any

import yaml

from kubecis.errors import DataError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 100
MAX_NODES = 1_000_000

# go-yaml v2 (decode.go) allowedAliasRatio: the bounds of the range over which the ratio shrinks.
_RATIO_LOW = 400_000
_RATIO_HIGH = 4_000_000


class YamlLimitError(DataError, ValueError):
    """A document refused by a bound; ``line`` (1-based) is where, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def allowed_alias_ratio(decodes: int) -> float:
    """go-yaml v2's share of decode operations that may come from alias expansion."""
    if decodes <= _RATIO_LOW:
        return 0.99
    if decodes >= _RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * ((decodes - _RATIO_LOW) / (_RATIO_HIGH - _RATIO_LOW))


def _line(node: yaml.Node) -> int | None:
    mark = getattr(node, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else None


# Where an alias can start in a document libyaml accepts: a ``*`` at the start of the text or right after a
# blank, a line break, a BOM, ``[``, ``{``, ``,`` or ``:`` (flow ``{a:*b}``). Anywhere else (``ls *.conf``,
# ``'*.crt'``, ``.*``, ``[*]``) a ``*`` is scalar text, or an alias token right after another token
# (``"a"*b``, ``]*b``, ``&a*b``), which the parser rejects.
_ALIAS_AFTER = frozenset("[{,:?\ufeff")


def may_have_aliases(text: str) -> bool:
    """False only when ``text`` cannot contain an alias: its node graph is then a tree the size of the text.

    A conservative pre-filter (false positives only cost a :func:`check_graph`); tests check it
    against the composer on generated documents. It looks at each ``*`` only (a regex over the
    whole text would cost more than the check it saves).
    """
    i = text.find("*")
    while i >= 0:
        if i == 0 or text[i - 1] in _ALIAS_AFTER or text[i - 1].isspace():
            return True
        i = text.find("*", i + 1)
    return False


def check_graph(root: yaml.Node | None, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """Raise :class:`YamlLimitError` when the tree ``root`` stands for is recursive or over a bound.

    One pass over the distinct nodes: the expanded size and height of each collection are
    memoized, so an alias costs a dictionary lookup however much it expands. The recursion is
    at most ``max_depth`` deep: deeper is refused before it is entered.
    """
    if root is None or type(root) is yaml.ScalarNode:
        return
    memo: dict[int, tuple[int, int]] = {}  # id(collection) → (nodes, levels) of its expanded tree
    on_path: set[int] = set()
    aliased = 0  # nodes reached through an alias (go-yaml's aliasCount)
    scalar = yaml.ScalarNode

    def walk(node: yaml.Node, depth: int) -> tuple[int, int]:
        nonlocal aliased
        node_id = id(node)
        on_path.add(node_id)
        size, height = 1, 0
        children = [x for pair in node.value for x in pair] if type(node) is yaml.MappingNode else node.value
        for child in children:
            if type(child) is scalar:
                size += 1
                continue
            child_id = id(child)
            measured = memo.get(child_id)
            if measured is None:
                if child_id in on_path:
                    raise YamlLimitError("recursive alias: an anchor's value contains an alias to itself",
                                         _line(child))
                if depth >= max_depth:
                    raise YamlLimitError(f"nesting deeper than {max_depth} levels", _line(child))
                measured = walk(child, depth + 1)
            else:  # an alias to a collection already measured
                aliased += measured[0]
                if depth + measured[1] > max_depth:
                    raise YamlLimitError(f"nesting deeper than {max_depth} levels", _line(child))
            size += measured[0]
            if measured[1] > height:
                height = measured[1]
            if size > max_nodes:
                raise YamlLimitError(f"more than {max_nodes} nodes with aliases expanded", _line(child))
        on_path.discard(node_id)
        memo[node_id] = result = (size, height + 1)
        return result

    total = walk(root, 1)[0]
    if aliased > 100 and total > 1000 and aliased / total > allowed_alias_ratio(total):
        raise YamlLimitError("document contains excessive aliasing")


def read_file(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Opened non-blocking and checked with ``fstat`` before anything is read: a FIFO or a device is
    refused (:class:`YamlLimitError`) instead of hanging or reading forever, as is a file over
    ``limit``. ``OSError`` (missing, unreadable, a directory) propagates.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise YamlLimitError(f"not a regular file ({_file_kind(st.st_mode)})")
        if st.st_size > limit:
            raise YamlLimitError(f"file too large: {st.st_size} bytes (the limit is {limit})")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:  # it grew while we read it
        raise YamlLimitError(f"file too large: over {limit} bytes (the limit)")
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` (C loader where available) of the first document, bounded by :func:`check_graph`.

    Raises ``yaml.YAMLError`` for malformed text and :class:`YamlLimitError` for a document over a bound.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_graph(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def value_depth_exceeds(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether plain data (dicts, lists) nests deeper than ``max_depth`` levels (iterative; for JSON)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            items: Any = v.values()
        elif isinstance(v, list):
            items = v
        else:
            continue
        if d > max_depth:
            return True
        stack.extend((x, d + 1) for x in items if isinstance(x, dict | list))
    return False

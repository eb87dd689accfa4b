"""Reading Kubernetes objects from a dump: ``kubectl get -o json|yaml`` output, manifests, a directory of them.

Accepted input (one file, or a directory searched recursively for ``*.json``, ``*.yaml``, ``*.yml``; hidden
entries and symbolic links to directories are skipped, files are read in sorted path order):

* a JSON object: a Kubernetes object, or a list (``kind: List`` or a typed ``PodList``...) whose ``items`` are
  objects; several JSON values in one file (``kubectl get a -o json; kubectl get b -o json``) are read in turn;
* YAML: one or more documents (``---``), each an object or a list, as above.

Every object must be a mapping with a string ``kind`` and ``metadata.name`` (items of a typed list inherit the
list's kind and apiVersion, as the API server omits them). Anything else stops the load with one line naming the
file (and line for YAML and small JSON files): :class:`ObjectsError`.

Memory stays bounded: a JSON file larger than :data:`STREAM_ABOVE` is read as a stream (``ijson``), one list item
at a time, and must then hold lists only (the shape of ``kubectl get -o json``). YAML is slow to parse in Python;
a YAML file larger than :data:`YAML_LIMIT` is refused with advice to dump JSON instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kubecis.errors import HostError

__all__ = ["STREAM_ABOVE", "YAML_LIMIT", "ObjectsError", "iter_objects"]

STREAM_ABOVE = 16 << 20
YAML_LIMIT = 16 << 20
MAX_FILES = 100_000
_EXTENSIONS = (".json", ".yaml", ".yml")


class ObjectsError(HostError):
    """An object dump that cannot be read (one line naming the file)."""


def _is_list(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("items"), list) and str(doc.get("kind", "List")).endswith("List")


def _check(obj: Any, where: str, default_kind: str = "", default_api: str = "") -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ObjectsError(f"{where}: expected a Kubernetes object (a mapping), found {_type_name(obj)}")
    if default_kind and "kind" not in obj:
        obj["kind"] = default_kind
    if default_api and "apiVersion" not in obj:
        obj["apiVersion"] = default_api
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ObjectsError(f"{where}: object without a kind")
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise ObjectsError(f"{where}: {kind} without metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise ObjectsError(f"{where}: {kind} without metadata.name")
    ns = meta.get("namespace")
    if ns is not None and not isinstance(ns, str):
        raise ObjectsError(f"{where}: {kind} {name}: metadata.namespace is not a string")
    return obj


def _type_name(v: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(v), "a number")


def _expand(doc: Any, where: str) -> Iterator[dict[str, Any]]:
    """One decoded top-level value: its items if it is a list, else itself."""
    if isinstance(doc, dict) and _is_list(doc):
        kind = str(doc.get("kind", "List"))
        item_kind = kind.removesuffix("List") if kind != "List" else ""
        api = str(doc.get("apiVersion") or "") if item_kind else ""
        for i, it in enumerate(doc["items"]):
            yield _check(it, f"{where}: items[{i}]", item_kind, api)
        return
    if isinstance(doc, dict) and "items" in doc and "kind" not in doc:
        raise ObjectsError(f"{where}: a value with items that is not a List")
    yield _check(doc, where)


# --------------------------------------------------------------------------- JSON


def _json_small(path: Path, data: bytes) -> Iterator[dict[str, Any]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ObjectsError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    dec = json.JSONDecoder()
    pos, n = 0, 0
    size = len(text)
    while True:
        while pos < size and text[pos] in " \t\r\n":
            pos += 1
        if pos >= size:
            break
        try:
            doc, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ObjectsError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})") from None
        except RecursionError:
            raise ObjectsError(f"{path}: JSON nested too deeply") from None
        n += 1
        where = f"{path}: value {n}" if n > 1 else str(path)
        if isinstance(doc, list):
            raise ObjectsError(f"{where}: a JSON array at the top level (expected a Kubernetes object or List)")
        yield from _expand(doc, where)
    if n == 0:
        raise ObjectsError(f"{path}: empty file")


def _json_stream(path: Path) -> Iterator[dict[str, Any]]:
    """A large JSON file, one list item at a time (ijson's C parser); only lists are accepted."""
    import ijson  # type: ignore[import-untyped]

    try:
        with path.open("rb") as f:
            kinds = [str(k) for k in ijson.items(f, "kind", multiple_values=True)]
        if not kinds:
            raise ObjectsError(f"{path}: no Kubernetes List (a JSON file over {STREAM_ABOVE >> 20} MiB is read as "
                               "a stream of Lists, the shape of kubectl get -o json)")
        others = sorted({k for k in kinds if not k.endswith("List")})
        if others:
            raise ObjectsError(f"{path}: a JSON file over {STREAM_ABOVE >> 20} MiB is read as a stream and must hold "
                               f"Lists only (kubectl get -o json); found a top-level {others[0]}: split the file")
        typed = [k for k in kinds if k != "List"]
        if typed and len(kinds) > 1:
            raise ObjectsError(f"{path}: several Lists with a typed {typed[0]} in one large file: split the file")
        item_kind = typed[0].removesuffix("List") if typed else ""
        api = ""
        if item_kind:
            with path.open("rb") as f:
                api = next((str(v) for v in ijson.items(f, "apiVersion", multiple_values=True)), "")
        with path.open("rb") as f:
            for i, it in enumerate(ijson.items(f, "items.item", multiple_values=True, use_float=True)):
                yield _check(it, f"{path}: items[{i}]", item_kind, api)
    except ijson.JSONError as exc:
        raise ObjectsError(f"{path}: invalid JSON: {_first_line(str(exc))}") from None
    except ijson.IncompleteJSONError as exc:  # pragma: no cover - a JSONError subclass in current ijson
        raise ObjectsError(f"{path}: truncated JSON: {_first_line(str(exc))}") from None


def _first_line(s: str) -> str:
    return s.strip().splitlines()[0] if s.strip() else "parse error"


# --------------------------------------------------------------------------- YAML


def _yaml(path: Path, data: bytes) -> Iterator[dict[str, Any]]:
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(loader_cls):  # type: ignore[misc,valid-type]
        """Safe loading; timestamps stay strings (as in JSON and on the API server)."""

    _Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
    try:
        for n, doc in enumerate(yaml.load_all(data, Loader=_Loader), 1):
            if doc is None:
                continue
            where = f"{path}: document {n}"
            if isinstance(doc, list):
                raise ObjectsError(f"{where}: a YAML sequence at the top level (expected a Kubernetes object or "
                                   "List)")
            yield from _expand(doc, where)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ObjectsError(f"{path}{line}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ObjectsError(f"{path}: invalid YAML: {_first_line(str(exc))}") from None
    except RecursionError:
        raise ObjectsError(f"{path}: YAML nested too deeply") from None


# --------------------------------------------------------------------------- files


def _sniff_json(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(4096).lstrip(b" \t\r\n\xef\xbb\xbf")
    return head[:1] in (b"{", b"[")


def _one_file(path: Path) -> Iterator[dict[str, Any]]:
    try:
        size = path.stat().st_size
        is_json = path.suffix == ".json" or (path.suffix not in (".yaml", ".yml") and _sniff_json(path))
        if is_json and size > STREAM_ABOVE:
            yield from _json_stream(path)
            return
        if not is_json and size > YAML_LIMIT:
            raise ObjectsError(f"{path}: YAML larger than {YAML_LIMIT >> 20} MiB takes minutes to parse; dump JSON "
                               "instead (kubectl get ... -o json)")
        data = path.read_bytes()
    except OSError as exc:
        raise ObjectsError(f"{path}: {exc.strerror or exc}") from None
    yield from (_json_small(path, data) if is_json else _yaml(path, data))


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if fn.startswith(".") or not fn.endswith(_EXTENSIONS):
                continue
            p = Path(dirpath) / fn
            if p.is_file():
                out.append(p)
                if len(out) > MAX_FILES:
                    raise ObjectsError(f"{root}: more than {MAX_FILES} files")
    return out


def _walk_error(exc: OSError) -> None:
    raise ObjectsError(f"{exc.filename}: {exc.strerror or exc}")


def iter_objects(path: str | Path, progress: Callable[[Path], None] | None = None) -> Iterator[dict[str, Any]]:
    """Every object of the dump at ``path``, in file order. Raises :class:`ObjectsError`."""
    p = Path(path)
    try:
        is_dir = p.is_dir()
        exists = is_dir or p.exists()
    except OSError as exc:
        raise ObjectsError(f"{p}: {exc.strerror or exc}") from None
    if not exists:
        raise ObjectsError(f"{p}: no such file or directory")
    files = _walk(p) if is_dir else [p]
    if is_dir and not files:
        raise ObjectsError(f"{p}: no .json, .yaml or .yml files")
    for f in files:
        if progress is not None:
            progress(f)
        yield from _one_file(f)

"""The kube-apiserver's own configuration files, decided with Kubernetes' own semantics.

Pure functions over parsed documents (no I/O: :mod:`kubecis.probes.configs` reads the files through the Host and
hands the text in). Each module decodes one kind of file the API server names on its command line the way the API
server's loader does, validates it as the API server does at start-up, and answers the question a CIS check asks:

* :mod:`.encryption` -- ``EncryptionConfiguration`` (``--encryption-provider-config``): which provider writes
  Secrets (CIS 1.2.27/1.2.28 in v1.9+ numbering);
* :mod:`.audit` -- audit ``Policy`` (``--audit-policy-file``): the level each request gets, first matching rule
  (CIS 3.2.1/3.2.2);
* :mod:`.admission` -- ``AdmissionConfiguration`` (``--admission-control-config-file``) and the EventRateLimit
  plugin's ``Configuration`` (CIS 1.2.9).

A file the API server would refuse (wrong kind or version, a type error, a validation error) cannot be the one it
runs with: it is :class:`Malformed`, and the check using it is WARN with that reason, never PASS. docs/config-checks.md
describes the semantics and their sources.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from kubecis.errors import DataError
from kubecis.golang.yaml import load_json, load_yaml
from kubecis.yamllimits import MAX_DEPTH, MAX_FILE_BYTES, YamlLimitError, value_depth_exceeds

__all__ = ["MAX_FILE_BYTES", "Malformed", "decode", "get_bool", "get_int", "get_list", "get_map", "get_str",
           "get_str_list", "kind_of"]


class Malformed(DataError, ValueError):
    """A document the API server would refuse; ``str()`` says why (never quoting file content)."""


def decode(text: str) -> Any:
    """A YAML or JSON document as ``sigs.k8s.io/yaml`` reads it: JSON as is, otherwise the first YAML document with
    go-yaml v2 scalars. Raises :class:`Malformed` (syntax error with its line, a document over a bound)."""
    if len(text) > MAX_FILE_BYTES:
        raise Malformed(f"over {MAX_FILE_BYTES} bytes")
    if not text.strip():
        raise Malformed("the file is empty")
    try:
        value = load_json(text)
    except RecursionError:
        raise Malformed(f"JSON nesting deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        pass
    else:
        if value_depth_exceeds(value):
            raise Malformed(f"JSON nesting deeper than {MAX_DEPTH} levels")
        return value
    try:
        return load_yaml(text)
    except YamlLimitError as exc:
        raise Malformed(f"YAML refused{f' at line {exc.line}' if exc.line else ''}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise Malformed(f"not valid YAML or JSON: {where}{exc.problem or 'syntax error'}") from None
    except Exception as exc:  # hostile text: any parser or constructor failure is "malformed"
        raise Malformed(f"not valid YAML or JSON ({type(exc).__name__})") from None


def kind_of(doc: Any, accepted: Mapping[str, tuple[str, ...]]) -> tuple[str, str]:
    """``(apiVersion, kind)`` of a document the API server's decoder accepts: ``accepted`` maps each kind to the
    apiVersions registered for it. Anything else is :class:`Malformed` (the decoder needs both fields)."""
    if not isinstance(doc, dict):
        raise Malformed(f"expected a mapping at the top, found {_type(doc)}")
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api, str) or not api:
        raise Malformed("no apiVersion (the API server's decoder needs apiVersion and kind)")
    if not isinstance(kind, str) or not kind:
        raise Malformed("no kind (the API server's decoder needs apiVersion and kind)")
    want = " or ".join(f"{k} ({', '.join(v)})" for k, v in accepted.items())
    if kind not in accepted or api not in accepted[kind]:
        raise Malformed(f"apiVersion {json.dumps(api)}, kind {json.dumps(kind)} is not {want}")
    return api, kind


def _type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int | float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return type(v).__name__


# Typed access with Go's encoding/json rules for the fields Kubernetes' config types declare: a missing key or null
# is the zero value, a value of another type is a decoding error (Malformed naming the field path).

def get_map(obj: Mapping[str, Any], key: str, where: str) -> dict[str, Any] | None:
    v = obj.get(key)
    if v is None:
        return None
    if not isinstance(v, dict):
        raise Malformed(f"{where}{key}: expected a mapping, found {_type(v)}")
    return v


def get_list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    v = obj.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise Malformed(f"{where}{key}: expected a list, found {_type(v)}")
    return v


def get_str(obj: Mapping[str, Any], key: str, where: str) -> str:
    v = obj.get(key)
    if v is None:
        return ""
    if not isinstance(v, str):
        raise Malformed(f"{where}{key}: expected a string, found {_type(v)}")
    return v


def get_str_list(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, v in enumerate(get_list(obj, key, where)):
        if not isinstance(v, str):
            raise Malformed(f"{where}{key}[{i}]: expected a string, found {_type(v)}")
        out.append(v)
    return tuple(out)


def get_int(obj: Mapping[str, Any], key: str, where: str, *, bits: int = 32) -> int | None:
    """An integer field (JSON numbers arrive as floats: an integral one is accepted, as Go's decoder does)."""
    v = obj.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or (isinstance(v, float) and not v.is_integer()):
        raise Malformed(f"{where}{key}: expected an integer, found {_type(v) if not isinstance(v, float) else v}")
    n = int(v)
    if not -(1 << (bits - 1)) <= n < (1 << (bits - 1)):
        raise Malformed(f"{where}{key}: {n} overflows a {bits}-bit integer")
    return n


def get_bool(obj: Mapping[str, Any], key: str, where: str) -> bool | None:
    v = obj.get(key)
    if v is None:
        return None
    if not isinstance(v, bool):
        raise Malformed(f"{where}{key}: expected a boolean, found {_type(v)}")
    return v

"""Find a test item's value in one source text (kube-bench's three ``findValue``s).

* flag mode (kube-bench-compat.md#flag-mode) looks for ``flag`` in ``audit`` output;
* path mode (kube-bench-compat.md#path-mode) renders a JSONPath template over ``audit_config`` output;
* env mode (kube-bench-compat.md#env-mode) looks for ``NAME=value`` in ``audit_env`` output.

The flag and env names are inserted into regexes unescaped, exactly as
kube-bench does, so their quirks (a flag matching inside a longer token, ``.``
in a name matching any character) are preserved. A name that makes the regex
uncompilable panics kube-bench; here it comes back as ``Extraction.fatal`` and
the evaluator reports a check error. Nothing in this module raises.
"""

from __future__ import annotations

import re

from kubecis.golang.jsonpath import render
from kubecis.golang.regexp import RegexpError, compile_go
from kubecis.golang.yaml import load_config
from kubecis.records import dataclass


@dataclass(frozen=True, slots=True)
class Extraction:
    """``found``/``value`` as kube-bench computes them.

    ``error`` is a kube-bench ``findValue`` error: the item fails, counts as not
    found and the message goes to stderr. ``fatal`` is a condition on which
    kube-bench panics (uncompilable regex). ``refused`` is input over one of our
    bounds (a YAML bomb in a config file): the check is not evaluated.
    """

    found: bool
    value: str = ""
    error: str = ""
    fatal: str = ""
    refused: str = ""


NOT_FOUND = Extraction(found=False)


def find_flag(text: str, flag: str) -> Extraction:
    """``--flag=v``, ``flag: v``, ``flag:v`` → v; a bare ``--flag`` → "true"; ``--flag v`` → "true"."""
    if not text or not flag or flag not in text:
        return NOT_FOUND
    try:
        pattern = compile_go("(" + flag + r")(=|: *)*([^\s]*) *")
    except RegexpError as exc:
        return Extraction(found=False, fatal=f"invalid flag {flag!r} in test item: {exc}")
    m = pattern.search(text)
    if m is None:
        return Extraction(found=False, error=f"invalid flag in testItem definition: {text}")
    value = _group(m, 3)
    if not value:
        value = "true" if flag.startswith("--") else _group(m, 1)
    return Extraction(found=True, value=value)


def _group(m: re.Match[str], index: int) -> str:
    """A submatch as Go reports it: "" for a group that did not take part.

    Group numbers count the flag's own parentheses too (the flag is inserted
    unescaped), exactly as in kube-bench.
    """
    return (m.group(index) or "") if index <= m.re.groups else ""


def find_env(text: str, env: str) -> Extraction:
    """First ``ENV=rest-of-line``; an empty value counts as not present."""
    if not text or not env:
        return NOT_FOUND
    try:
        pattern = compile_go(env + r"=.*(?:$|\n)")
    except RegexpError as exc:
        return Extraction(found=False, fatal=f"invalid env name {env!r} in test item: {exc}")
    m = pattern.search(text)
    out = m.group(0) if m else ""
    out = out.replace("\n", "", 1).replace(env + "=", "", 1)
    return Extraction(found=bool(out), value=out)


def find_path(text: str, path: str) -> Extraction:
    """Decode ``text`` (JSON, else YAML) and render ``path``; found ⇔ non-empty rendering."""
    decoded = load_config(text)
    if decoded.refused:
        return Extraction(found=False, refused=decoded.refused)
    if decoded.error:
        return Extraction(found=False, error=decoded.error)
    rendered = render(path, decoded.value)
    if rendered.error:
        return Extraction(found=False, error=f'unable to parse path expression "{path}": {rendered.error}')
    return Extraction(found=rendered.text != "", value=rendered.text)

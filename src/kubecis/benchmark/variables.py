"""NodeDiscovery of component binaries and files, and ``$<component><kind>`` substitution.

See kube-bench-compat.md#discovery-and-substitution.

kube-bench finds each component's binary in the process table and each file as the
first existing candidate path. kubecis does the same, with one improvement that
fixes kube-bench's most reported false positive (#1256): when the running
kubelet (or kube-proxy, scheduler, controller-manager, etcd) names its config,
kubeconfig or data dir on its command line, that path wins over the candidate
list. The API server's encryption, admission and audit files are kubecis's own
kinds, named only by its flags (``kubecis.discovery.FLAG_ONLY_KINDS``, docs/config-checks.md).
Every decision is recorded with its reason for ``kubecis explain``.

Substitution happens on the parsed model (every text field), which is equivalent
to kube-bench's raw-text replacement for all shipped data, without letting a
replacement value break YAML parsing.

A value taken from the host (a path named on a running component's command line) is
data, never code: it is pasted into audits only when it is made of characters that
mean nothing to a shell in any quoting context (:data:`SAFE_VALUE`). Any other
value is not substituted at all, and every check whose audits or tests use that
variable is WARN with the reason (``Check.not_run``) instead of running. Values from
the benchmark definitions (bins, candidates, defaults) are substituted exactly as
kube-bench does. See docs/security.md.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import field
from typing import Any, TypeVar

from kubecis.benchmark.config import FILE_KINDS, NodeSection
from kubecis.benchmark.model import Check, Controls, Tests
from kubecis.golang.fmt import go_quote
from kubecis.records import dataclass

# The characters a value from the host may consist of to be pasted into an audit. None of them is special to
# /bin/sh bare, inside "...", inside '...', inside a nested `sh -c '...'` or inside backquotes, so such a value
# reads the same to every shell that parses the audit (kube-bench's audits nest shells). A leading '-' is refused
# too: `stat -c %a $kubeletconf` would take it as an option.
SAFE_VALUE = re.compile(r"[A-Za-z0-9_./:@%+,=-]+")
SAFE_CHARS = "A-Z a-z 0-9 _ . / : @ % + , = -"

ENV_AUDIT_TEMPLATE = "cat \"/proc/$(/bin/ps -C {bin} -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'"


@dataclass(frozen=True, slots=True)
class Decision:
    component: str
    kind: str  # bin, conf, svc, kubeconfig, cafile, datadir
    value: str
    why: str


@dataclass(slots=True)
class NodeDiscovery:
    """What discovery found for one node-type section (:func:`kubecis.discovery.discover` fills it)."""

    section: str
    bins: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → component → path
    decisions: list[Decision] = field(default_factory=list)
    bin_error: str = ""  # set when a mandatory component is not running (bins then stay empty)
    # Variables whose value came from the host but cannot be pasted into an audit: ``$name`` → why. They
    # are not substituted; the checks using them are WARN with the reason (see :func:`substitute`).
    refused: dict[str, str] = field(default_factory=dict)

    def variables(self) -> list[tuple[str, str]]:
        """``($name, value)`` pairs in kube-bench's substitution order: bin, conf, svc, kubeconfig, ..."""
        out = [(f"${c}bin", v) for c, v in self.bins.items()]
        for kind in FILE_KINDS:
            out += [(f"${c}{kind}", v) for c, v in self.files.get(kind, {}).items()]
        return out


def unsafe_reason(value: str) -> str:
    """Why ``value`` cannot be pasted into an audit, or "" when it can (see :data:`SAFE_VALUE`)."""
    if SAFE_VALUE.fullmatch(value):
        return "it starts with \"-\" (a command would take it as an option)" if value.startswith("-") else ""
    bad = sorted({ch for ch in value if not SAFE_VALUE.fullmatch(ch)})
    shown = " ".join(go_quote(ch) for ch in bad[:8]) + (" ..." if len(bad) > 8 else "")
    return f"it contains {shown} (a value from the host is substituted only when made of {SAFE_CHARS})"


def nominal_discovery(section: NodeSection | None) -> NodeDiscovery:
    """Variables as on a typical node, without a host: the first bins candidate and the first file
    candidate (or the default). For measuring audits (coverage), never for checking a node."""
    d = NodeDiscovery(section.name if section else "")
    if section is None:
        return d
    for comp in section.components:
        if comp.bins:
            d.bins[comp.name] = comp.bins[0].strip("'\"")
        for kind in FILE_KINDS:
            cands = comp.candidates.get(kind, ())
            value = cands[0] if cands else comp.defaults.get(kind)
            if value:
                d.files.setdefault(kind, {})[comp.name] = value
    return d


def _short(s: str, n: int = 100) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def _quote(value: str) -> str:
    return f"'{value}'" if any(ch.isspace() for ch in value) else value


def substitute(controls: Controls, discovery: NodeDiscovery, raw_text: str | None = None) -> Controls:
    """Replace ``$<component><kind>`` in every text field; add the default ``audit_env``
    (kube-bench-compat.md#default-audit_env)."""
    pairs = [(name, _quote(v)) for name, v in discovery.variables()]  # "": a flag-only kind that nothing names
    # kube-bench-compat.md#substitution, #default-audit_env: the bins whose replacement changed the file text,
    # with repeats.
    text_for_bins = raw_text if raw_text is not None else _all_text(controls)
    changed_bins = [_quote(v) for c, v in discovery.bins.items() if v and f"${c}bin" in text_for_bins]
    env_bin = changed_bins[0] if len(changed_bins) == 1 else ""

    def sub(s: str) -> str:
        if "$" not in s:
            return s
        for name, value in pairs:
            if name in s:
                s = s.replace(name, value)
        return s

    def fix_check(c: Check) -> Check:
        refused = [discovery.refused[name] for name in discovery.refused if _uses(c, name)]
        new = _replaced(
            c,
            not_run=c.not_run or "; ".join(refused),
            text=sub(c.text),
            audit=sub(c.audit),
            audit_config=sub(c.audit_config),
            audit_env=sub(c.audit_env),
            remediation=sub(c.remediation),
            tests=_sub_tests(c, sub),
        )
        if (not new.audit_env and not new.disable_env_testing and new.tests is not None
                and any(i.env for i in new.tests.items)):
            new = dataclasses.replace(new, audit_env=ENV_AUDIT_TEMPLATE.format(bin=env_bin))
        return new

    groups = tuple(
        _replaced(g, text=sub(g.text), checks=tuple(fix_check(c) for c in g.checks))
        for g in controls.groups
    )
    return _replaced(controls, text=sub(controls.text), groups=groups)


_T = TypeVar("_T")


def _replaced(obj: _T, **values: Any) -> _T:
    """``dataclasses.replace`` with only the fields that changed; ``obj`` itself when none did (substitution
    runs per node, and most fields hold no variable)."""
    changed = {k: v for k, v in values.items() if not _same(v, getattr(obj, k))}
    return dataclasses.replace(obj, **changed) if changed else obj  # type: ignore[type-var]


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, tuple) and isinstance(b, tuple):  # rebuilt tuples of (maybe) unchanged members
        return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
    return False


def _sub_tests(c: Check, sub: Callable[[str], str]) -> Tests | None:
    if c.tests is None:
        return None
    items = tuple(
        _replaced(
            i, flag=sub(i.flag), path=sub(i.path), env=sub(i.env),
            compare=_replaced(i.compare, value=sub(i.compare.value)),
        )
        for i in c.tests.items
    )
    return _replaced(c.tests, items=items)


def _uses(c: Check, name: str) -> bool:
    """Does running or evaluating check ``c`` depend on variable ``name`` (its audits or its tests)?"""
    if any(name in s for s in (c.audit, c.audit_config, c.audit_env)):
        return True
    items = c.tests.items if c.tests is not None else ()
    return any(name in s for i in items for s in (i.flag, i.path, i.env, i.compare.value))


def _all_text(controls: Controls) -> str:
    parts = [controls.text]
    for g in controls.groups:
        parts.append(g.text)
        for c in g.checks:
            parts += [c.text, c.audit, c.audit_config, c.audit_env, c.remediation]
    return "\n".join(parts)


def describe(d: NodeDiscovery) -> list[str]:
    """Human-readable decision lines for ``kubecis explain``."""
    return [f"{x.component:<18} {x.kind:<16} {x.value or '-':<50} {x.why}" for x in d.decisions]


"""The audit corpus: every distinct audit script in a kube-bench ``cfg/`` tree.

Used to measure which shell subset the native executor must support and by the
coverage command and the differential tests. Variables are substituted the way
kube-bench does (bin, conf, svc, kubeconfig, cafile, datadir; whitespace values
in single quotes), choosing the *first* candidate of each list (or the
``default*`` value, or the component name) since no node is inspected here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

_KINDS = (
    ("bin", "bins", None),
    ("conf", "confs", "defaultconf"),
    ("svc", "svc", "defaultsvc"),
    ("kubeconfig", "kubeconfig", "defaultkubeconfig"),
    ("cafile", "cafile", "defaultcafile"),
    ("datadir", "datadirs", "defaultdatadir"),
)
_TRUE = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"}


def default_audit_env(binary: str) -> str:
    """The audit_env kube-bench synthesises for checks with ``env`` tests."""
    return f"cat \"/proc/$(/bin/ps -C {binary} -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'"


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    script: str
    kind: str  # audit | audit_config | audit_env
    benchmark: str
    target: str
    check_id: str
    automated: bool


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    return over


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader is safe


def _as_list(v: Any) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, list):
        return [str(x) for x in v]
    return [str(v)]


def substitution_map(config: Mapping[str, Any], node_type: str) -> list[tuple[str, str]]:
    """Ordered (variable, value) pairs for one node-type section of a merged config."""
    section = config.get(node_type)
    if not isinstance(section, dict):
        return []
    comps = [c for c in _as_list(section.get("components")) if isinstance(section.get(c), dict)]
    pairs: list[tuple[str, str]] = []
    for suffix, key, default_key in _KINDS:
        for comp in comps:
            sub = section[comp]
            cands = _as_list(sub.get(key))
            if suffix == "bin":
                if not cands:
                    continue
                value = cands[0].strip("'\"")
            elif cands:
                value = cands[0]
            elif default_key and sub.get(default_key):
                value = str(sub[default_key])
            else:
                value = comp
            if not value:
                continue
            if any(ch.isspace() for ch in value):
                value = f"'{value}'"
            pairs.append((f"${comp}{suffix}", value))
    return pairs


def substitute(text: str, pairs: Iterable[tuple[str, str]]) -> tuple[str, list[str]]:
    """Apply the pairs in order; also return the bin values that changed the text (§4.6)."""
    bins: list[str] = []
    for var, value in pairs:
        new = text.replace(var, value)
        if new != text and var.endswith("bin"):
            bins.append(value)
        text = new
    return text, bins


def benchmarks(cfg_root: str) -> list[str]:
    return sorted(d for d in os.listdir(cfg_root) if os.path.isdir(os.path.join(cfg_root, d)))


def load_corpus(cfg_root: str, names: Iterable[str] | None = None) -> list[CorpusEntry]:
    """Every audit/audit_config/audit_env (non-empty) of the given benchmark sets."""
    global_cfg = _load(os.path.join(cfg_root, "config.yaml")) or {}
    out: list[CorpusEntry] = []
    for bench in names if names is not None else benchmarks(cfg_root):
        bdir = os.path.join(cfg_root, bench)
        local_path = os.path.join(bdir, "config.yaml")
        local = _load(local_path) if os.path.exists(local_path) else None
        config = _merge(global_cfg, local) if isinstance(local, dict) else global_cfg
        for fname in sorted(os.listdir(bdir)):
            if not fname.endswith(".yaml") or fname == "config.yaml":
                continue
            target = fname[:-5]
            with open(os.path.join(bdir, fname), encoding="utf-8") as f:
                raw = f.read()
            text, bins = substitute(raw, substitution_map(config, target))
            doc = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506
            if not isinstance(doc, dict):
                continue
            env_bin = bins[0] if len(bins) == 1 else ""
            for group in doc.get("groups") or []:
                if not isinstance(group, dict):
                    continue
                gskip = group.get("type") == "skip"
                for check in group.get("checks") or []:
                    if not isinstance(check, dict):
                        continue
                    ctype = "skip" if gskip else str(check.get("type") or "")
                    automated = ctype not in ("manual", "skip")
                    cid = str(check.get("id", ""))
                    for kind in ("audit", "audit_config", "audit_env"):
                        s = check.get(kind)
                        if isinstance(s, str) and s.strip():
                            out.append(CorpusEntry(s, kind, bench, target, cid, automated))
                    if not (isinstance(check.get("audit_env"), str) and check["audit_env"]):
                        tests = check.get("tests")
                        items = tests.get("test_items") if isinstance(tests, dict) else None
                        has_env = any(isinstance(i, dict) and i.get("env") for i in items or [])
                        if has_env and check.get("disableenvtesting") not in _TRUE:
                            out.append(
                                CorpusEntry(
                                    default_audit_env(env_bin), "audit_env", bench, target, cid, automated
                                )
                            )
    return out


def distinct(entries: Iterable[CorpusEntry], automated_only: bool = True) -> list[str]:
    """Distinct scripts, in first-seen order."""
    seen: dict[str, None] = {}
    for e in entries:
        if automated_only and not e.automated:
            continue
        seen.setdefault(e.script, None)
    return list(seen)

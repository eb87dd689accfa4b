"""The audit corpus: every distinct audit script of a set of benchmark definitions.

Used by ``kubecis audits coverage`` and the differential tests to measure which shell subset the
native executor must support. Definitions are loaded and substituted by the same code a run uses
(:mod:`kubecis.benchmark`), with :func:`~kubecis.benchmark.variables.nominal_discovery` standing in
for a node: the first candidate of each list, since no host is inspected here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kubecis.benchmark.config import Config
from kubecis.benchmark.loader import load_controls
from kubecis.benchmark.variables import nominal_discovery, substitute
from kubecis.errors import BenchmarkError


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    script: str
    kind: str  # audit | audit_config | audit_env
    benchmark: str
    target: str
    check_id: str
    automated: bool  # kube-bench evaluates it: no type, not in a skipped group, at least one test item


def benchmarks(cfg_root: str | Path) -> list[str]:
    return Config.load(Path(cfg_root)).benchmarks()


def load_corpus(cfg_root: str | Path, names: Iterable[str] | None = None) -> list[CorpusEntry]:
    """Every non-empty audit/audit_config/audit_env (after substitution) of the given sets."""
    cfg = Config.load(Path(cfg_root))
    out: list[CorpusEntry] = []
    for bench in names if names is not None else cfg.benchmarks():
        bench_dir = cfg.config_dir / bench
        if not bench_dir.is_dir():
            raise BenchmarkError(f"unknown benchmark {bench!r} in {cfg.config_dir}; available: "
                                 f"{', '.join(cfg.benchmarks())}")
        merged = cfg.merged_with(bench)
        for path in sorted(bench_dir.rglob("*.yaml")):
            if path.name == "config.yaml":
                continue
            target = path.name.split(".")[0]
            loaded = load_controls(path, target)
            controls = substitute(loaded.controls, nominal_discovery(merged.section(target)), loaded.text)
            for group in controls.groups:
                for c in group.checks:
                    automated = (group.type != "skip" and not c.type.strip() and c.tests is not None
                                 and bool(c.tests.items))
                    for kind, script in (("audit", c.audit), ("audit_config", c.audit_config),
                                         ("audit_env", c.audit_env)):
                        if script.strip():
                            out.append(CorpusEntry(script, kind, bench, target, c.id, automated))
    return out


def distinct(entries: Iterable[CorpusEntry], automated_only: bool = True) -> list[str]:
    """Distinct scripts, in first-seen order."""
    seen: dict[str, None] = {}
    for e in entries:
        if automated_only and not e.automated:
            continue
        seen.setdefault(e.script, None)
    return list(seen)

"""`kubecis audits coverage`: which audits of a benchmark set the native interpreter cannot run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubecis.benchmark.config import FILE_KINDS, Config, NodeSection
from kubecis.benchmark.loader import load_controls
from kubecis.benchmark.variables import Discovery, substitute
from kubecis.cli.common import resolve_config_dir
from kubecis.errors import BenchmarkError

app = typer.Typer(help="Inspect benchmark audits.", no_args_is_help=True)


def nominal_discovery(section: NodeSection | None) -> Discovery:
    """Variables as on a typical node: the first bins candidate and the first file candidate (or default).

    Coverage is a property of the audit text, so any plausible substitution will do; this one needs no host.
    """
    d = Discovery(section.name if section else "")
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


def automated_audits(cfg: Config, bench: str) -> list[tuple[str, str]]:
    """(check id, script) for every audit/audit_config/audit_env of the automated checks of a set."""
    bench_dir = cfg.config_dir / bench
    if not bench_dir.is_dir():
        raise BenchmarkError(f"unknown benchmark {bench!r} in {cfg.config_dir}; available: "
                             f"{', '.join(cfg.benchmarks())}")
    merged = cfg.merged_with(bench)
    out: list[tuple[str, str]] = []
    for path in sorted(bench_dir.rglob("*.yaml")):
        if path.name == "config.yaml":
            continue
        target = path.name.split(".")[0]
        loaded = load_controls(path, target)
        controls = substitute(loaded.controls, nominal_discovery(merged.section(target)), loaded.text)
        for g in controls.groups:
            if g.type == "skip":
                continue
            for c in g.checks:
                if c.type.strip() or c.tests is None or not c.tests.items:
                    continue
                for script in (c.audit, c.audit_config, c.audit_env):
                    if script.strip():
                        out.append((f"{target}/{c.id}", script))
    return out


@app.command("coverage")
def coverage_cmd(
    names: Annotated[list[str], typer.Argument(help="Benchmark set names, e.g. cis-1.12.")],
    config_dir: Annotated[Path | None, typer.Option("--config-dir", "-D", help="Benchmark definitions root.")] = None,
) -> int:
    """List the distinct audits of automated checks that the native executor does not support."""
    from kubecis.audit.native import unsupported_reason

    cfg = Config.load(resolve_config_dir(config_dir))
    scripts: dict[str, list[str]] = {}
    for name in names:
        for check, script in automated_audits(cfg, name):
            scripts.setdefault(script, []).append(f"{name}:{check}")
    unsupported = 0
    for script, where in scripts.items():
        reason = unsupported_reason(script)
        if reason is None:
            continue
        unsupported += 1
        first = script.strip().splitlines()[0] if script.strip() else ""
        more = f" (+{len(where) - 1} more)" if len(where) > 1 else ""
        typer.echo(f"{where[0]}{more}: {reason}")
        typer.echo(f"    {first[:150]}")
    total = len(scripts)
    supported = total - unsupported
    pct = 100.0 * supported / total if total else 100.0
    typer.echo(f"natively supported: {supported}/{total} audits ({pct:.1f}%)")
    return 0

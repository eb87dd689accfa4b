"""`kubecis benchmarks list|validate`: which benchmark sets exist, and are they well-formed."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from kubecis.benchmark.config import Config
from kubecis.benchmark.loader import Diagnostic, load_controls
from kubecis.benchmark.model import Controls
from kubecis.cli.common import resolve_config_dir
from kubecis.errors import KubecisError, LoadError

app = typer.Typer(help="List and validate benchmark sets.", no_args_is_help=True)

ConfigDirOpt = Annotated[
    Path | None,
    typer.Option("--config-dir", "-D", help="Root of kube-bench style benchmark directories."),
]


@app.command("list")
def list_cmd(config_dir: ConfigDirOpt = None) -> int:
    """List the benchmark sets, their targets and the Kubernetes versions mapped to them."""
    cfg = Config.load(resolve_config_dir(config_dir))
    try:
        tmap = cfg.target_mapping()
    except KubecisError:
        tmap = {}
    try:
        vmap = cfg.version_mapping()
    except KubecisError:
        vmap = {}
    by_bench: dict[str, list[str]] = {}
    for k, v in vmap.items():
        if k != v:
            by_bench.setdefault(v, []).append(k)
    for name in cfg.benchmarks():
        versions = ", ".join(by_bench.get(name, [])) or "-"
        targets = ",".join(tmap.get(name, [])) or "(no target_mapping entry)"
        typer.echo(f"{name:<28} targets: {targets:<55} kubernetes: {versions}")
    return 0


def validate_controls(controls: Controls) -> list[Diagnostic]:
    """Errors kube-bench would only hit at run time (it panics on them): invalid regexes."""
    errs: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for g in controls.groups:
        if not g.id:
            errs.append(Diagnostic(controls.source, g.line, "group without an id"))
        for c in g.checks:
            if not c.id:
                errs.append(Diagnostic(controls.source, c.line, "check without an id"))
            if c.id in seen and c.id:
                errs.append(Diagnostic(controls.source, c.line,
                                       f"check id {c.id} repeats the check at line {seen[c.id]}"))
            seen.setdefault(c.id, c.line)
            for item in c.tests.items if c.tests else ():
                if item.flag:
                    try:
                        re.compile("(" + item.flag + r")(=|: *)*([^\s]*) *")
                    except re.error as e:
                        errs.append(Diagnostic(controls.source, c.line,
                                               f"check {c.id}: flag {item.flag!r} is not a valid pattern: {e}"))
                if item.compare.op == "regex":
                    try:
                        re.compile(item.compare.value)
                    except re.error as e:
                        errs.append(Diagnostic(controls.source, c.line,
                                               f"check {c.id}: regex {item.compare.value!r} is invalid: {e}"))
    return errs


def validate_set(cfg: Config, name: str) -> tuple[list[str], list[str], int]:
    """(errors, warnings, number of checks) for one benchmark set."""
    errors: list[str] = []
    warnings: list[str] = []
    bench_dir = cfg.config_dir / name
    if not bench_dir.is_dir():
        available = ", ".join(cfg.benchmarks())
        return [f"{name}: unknown benchmark in {cfg.config_dir}; available: {available}"], [], 0
    try:
        cfg.merged_with(name)
    except KubecisError as e:
        errors.append(str(e))
    try:
        if not cfg.target_mapping().get(name):
            warnings.append(f"{name}: no target_mapping entry; `kubecis run` cannot select its targets")
    except KubecisError as e:
        warnings.append(str(e))
    n = 0
    files = sorted(p for p in bench_dir.rglob("*.yaml") if p.name != "config.yaml")
    if not files:
        errors.append(f"{bench_dir}: no controls files")
    for path in files:
        target = path.name.split(".")[0]
        try:
            loaded = load_controls(path, target)
        except LoadError as e:
            errors.append(str(e))
            continue
        n += len(loaded.controls.checks())
        warnings += [str(d) for d in loaded.diagnostics]
        errors += [str(d) for d in validate_controls(loaded.controls)]
    return errors, warnings, n


@app.command("validate")
def validate_cmd(
    names: Annotated[list[str], typer.Argument(help="Benchmark set names, e.g. cis-1.12.")],
    config_dir: ConfigDirOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
) -> int:
    """Load every controls file of the named sets; exit 0 only if all are well-formed."""
    cfg = Config.load(resolve_config_dir(config_dir))
    failed = False
    for name in names:
        errors, warnings, n = validate_set(cfg, name)
        for w in warnings:
            sys.stderr.write(f"warning: {w}\n")
        for e in errors:
            sys.stderr.write(f"error: {e}\n")
        bad = bool(errors) or (strict and bool(warnings))
        failed |= bad
        status = "FAILED" if bad else "ok"
        typer.echo(f"{name}: {status} ({n} checks, {len(errors)} errors, {len(warnings)} warnings)")
    return 1 if failed else 0

"""`kubecis audits coverage`: which audits of a benchmark set the native interpreter cannot run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubecis.cli.common import resolve_config_dir

app = typer.Typer(help="Inspect benchmark audits.", no_args_is_help=True)


@app.command("coverage")
def coverage_cmd(
    names: Annotated[list[str], typer.Argument(help="Benchmark set names, e.g. cis-1.12.")],
    config_dir: Annotated[Path | None, typer.Option("--config-dir", "-D", help="Benchmark definitions root.")] = None,
) -> int:
    """List the distinct audits of automated checks that the native executor does not support."""
    from kubecis.audit.native.corpus import load_corpus
    from kubecis.audit.native.coverage import coverage

    where: dict[str, list[str]] = {}
    for e in load_corpus(resolve_config_dir(config_dir), names):
        if e.automated:
            where.setdefault(e.script, []).append(f"{e.benchmark}:{e.target}/{e.check_id}")
    supported, total, unsupported = coverage(where)
    for script, reason in unsupported:
        first = script.strip().splitlines()[0]
        places = where[script]
        more = f" (+{len(places) - 1} more)" if len(places) > 1 else ""
        typer.echo(f"{places[0]}{more}: {reason}")
        typer.echo(f"    {first[:150]}")
    pct = 100.0 * supported / total if total else 100.0
    typer.echo(f"natively supported: {supported}/{total} audits ({pct:.1f}%)")
    return 0

"""`kubecis seccomp`: learn, run, export, diff and show seccomp profiles."""

from __future__ import annotations

import typer

app = typer.Typer(help="Learn seccomp profiles from observed syscalls: learn -> audit -> enforce.",
                  no_args_is_help=True)

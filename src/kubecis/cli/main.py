"""Entry point: the typer app, subcommand table, and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

import typer

from kubecis import __version__
from kubecis.errors import KubecisError


def _version_cmd() -> None:
    """Print the kubecis version."""
    typer.echo(__version__)


def _add_run(app: typer.Typer) -> None:
    from kubecis.cli import run

    run.register(app)


def _add_explain(app: typer.Typer) -> None:
    from kubecis.cli import explain

    app.command("explain")(explain.explain)


def _add_group(module: str) -> Callable[[typer.Typer], None]:
    def add(app: typer.Typer) -> None:
        mod = importlib.import_module(f"kubecis.cli.{module}")
        app.add_typer(mod.app, name=module)

    return add


# Subcommand table: name → how to add it. Only the command being run is imported and built (the
# typer tree of every command costs more start-up time than a whole native run of a benchmark).
COMMANDS: dict[str, Callable[[typer.Typer], None]] = {
    "run": _add_run,
    "master": _add_run,
    "node": _add_run,
    "demo": _add_run,
    "explain": _add_explain,
    "benchmarks": _add_group("benchmarks"),
    "audits": _add_group("audits"),
    "snapshot": _add_group("snapshot"),
    "seccomp": _add_group("seccomp"),
}


def build_app(args: Sequence[str] = ()) -> typer.Typer:
    """The CLI app; with ``args``, only the subcommand they name (all of them for help or a typo)."""
    app = typer.Typer(
        name="kubecis",
        help="Check Kubernetes nodes against the CIS Kubernetes Benchmark (kube-bench compatible).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    first = args[0] if args else ""
    if first == "version":
        adders = []
    elif first in COMMANDS:
        adders = [COMMANDS[first]]
    else:
        adders = list(dict.fromkeys(COMMANDS.values()))
    for add in adders:
        add(app)
    app.command("version")(_version_cmd)
    app.callback()(_root)  # always a command group, even when only one subcommand was built
    return app


def _root() -> None:
    """Check Kubernetes nodes against the CIS Kubernetes Benchmark (kube-bench compatible)."""


def _fail(message: str, code: int) -> int:
    # One line, no traceback.
    sys.stderr.write(f"kubecis: error: {message.strip().splitlines()[0] if message.strip() else 'failed'}\n")
    if len(message.strip().splitlines()) > 1:
        for extra in message.strip().splitlines()[1:]:
            sys.stderr.write(f"  {extra}\n")
    return code


# kube-bench (cobra) accepts `--scored=false`; typer's booleans are `--scored/--no-scored`.
_BOOL_FLAGS = ("--scored", "--unscored")
_FALSE = {"false", "0", "f", "no"}
_TRUE = {"true", "1", "t", "yes"}


def _normalise_bool_flags(args: list[str]) -> list[str]:
    out = []
    for a in args:
        name, eq, value = a.partition("=")
        if eq and name in _BOOL_FLAGS and value.lower() in _FALSE | _TRUE:
            out.append(name if value.lower() in _TRUE else "--no-" + name[2:])
        else:
            out.append(a)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and map every error to an exit code: usage 2, expected errors 1 (or their own), Ctrl-C 130."""
    try:
        args = _normalise_bool_flags(list(argv) if argv is not None else sys.argv[1:])
        rv = build_app(args)(args=args, prog_name="kubecis", standalone_mode=False)
    except typer.Exit as e:
        return int(e.exit_code)
    except typer.Abort:
        return _fail("aborted", 130)
    except KubecisError as e:
        return _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 141
    except Exception as e:
        # Usage errors from typer's command-line parser (click-style: format_message + exit_code).
        fmt = getattr(e, "format_message", None)
        code = getattr(e, "exit_code", None)
        if callable(fmt) and isinstance(code, int):
            if code == 0 or not str(fmt()).strip():  # help was printed (no_args_is_help)
                return code
            ctx = getattr(e, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            return _fail(f"{fmt()}{hint}", code)
        raise
    return int(rv) if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

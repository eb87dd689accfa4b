"""Entry point: the subcommand table, and the one place where errors, signals and exit codes meet.

Each subcommand lives in its own module with ``build(parser, name)``, which adds its arguments and sets
``handler`` (a function of the parsed namespace returning the exit status). Only the module of the
command being run is imported: ``kubecis run`` on a node never pays for ``seccomp`` or ``benchmarks``.

Exit codes: 0 done; N from ``--exit-code N`` (or a command's own documented status); 1 an expected error
(:class:`~kubecis.errors.KubecisError`); 2 a bad command line; 3 an internal error (a bug: one line,
``KUBECIS_DEBUG=1`` shows the traceback); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM); 141 the
reader of our output went away.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import NamedTuple

from kubecis import __version__
from kubecis.cli.args import Parser
from kubecis.errors import KubecisError, Terminated, UsageError


class Command(NamedTuple):
    module: str  # kubecis.cli.<module> provides build(parser, name)
    help: str  # one line, shown in `kubecis --help`


COMMANDS: dict[str, Command] = {
    "run": Command("run", "Check this node (kube-bench's run; without --targets the node's roles are detected)."),
    "master": Command("run", "Check only this node's control-plane components (`run --targets master`)."),
    "node": Command("run", "Check only this node's kubelet and kube-proxy (`run --targets node`)."),
    "demo": Command("run", "Show a real report without a cluster: replay the example node shipped with kubecis."),
    "explain": Command("explain", "Print every decision a run would make (benchmark, roles, paths) and why."),
    "benchmarks": Command("benchmarks", "List, validate, show, compare and document (check catalogue) benchmark sets."),
    "audits": Command("audits", "List the audits of a benchmark set the native interpreter cannot run (coverage)."),
    "snapshot": Command("snapshot", "Record a node once (secrets redacted), evaluate it anywhere."),
    "history": Command("history", "List the scans kept in a history store (`run --store`)."),
    "diff": Command("diff", "What changed between two stored scans: newly failing, fixed, not evaluated."),
    "waivers": Command("waivers", "Validate a waivers file (`run --waivers`)."),
    "cluster": Command("cluster", "Every node of a cluster, one report: scan through the API, manifests, collect."),
    "probe": Command("probe", "Run one of kubecis's probes (what bundled policy checks call): results and evidence."),
    "seccomp": Command("seccomp", "Learn seccomp profiles from observed syscalls: learn -> audit -> enforce."),
    "profile": Command("profile", "Runtime profiles (syscalls, files, network): learn -> audit -> enforce (Landlock)."),
    "completion": Command("completion", "Print the shell completion script (bash, zsh, fish)."),
    "version": Command("", "Print the kubecis version."),
}

DESCRIPTION = """Check Kubernetes nodes against the CIS Kubernetes Benchmark (kube-bench compatible).

Start with `kubecis demo` (no cluster needed); on a node, as root: `kubecis run`.
`kubecis COMMAND --help` describes each command."""


def build_parser(args: Sequence[str] = (), *, everything: bool = False) -> Parser:
    """The parser; the subcommand named in ``args`` is built fully (all of them with ``everything``)."""
    parser = Parser(prog="kubecis", description=DESCRIPTION)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    chosen = next((a for a in args if not a.startswith("-")), "")
    if chosen in COMMANDS:
        parser.help_hint = f"kubecis {chosen}"
    for name, cmd in COMMANDS.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.help)
        if name == "version":
            p.set_defaults(handler=_version)
        elif everything or name == chosen:
            importlib.import_module(f"kubecis.cli.{cmd.module}").build(p, name)
    return parser


def _version(_: argparse.Namespace) -> int:
    sys.stdout.write(f"{__version__}\n")
    return 0


def _fail(message: str, code: int) -> int:
    """One line on stderr (continuation lines indented), no traceback."""
    from kubecis.report.color import escape_controls

    lines = message.strip().splitlines() or ["failed"]
    tty = _isatty(sys.stderr)
    first = escape_controls(lines[0]) if tty else lines[0]
    sys.stderr.write(f"kubecis: error: {first}\n")
    for extra in lines[1:]:
        sys.stderr.write(f"  {escape_controls(extra) if tty else extra}\n")
    return code


def _isatty(stream: object) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except (OSError, ValueError):
        return False


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def _signals() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C does (running audits' process groups are killed, temp files removed)."""
    try:
        old = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (tests calling main() from a worker): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _complete() -> None:
    """Shell completion (argcomplete's protocol: the shell sets _ARGCOMPLETE and reads our answer)."""
    try:
        import argcomplete
    except ImportError:  # pragma: no cover - argcomplete is a dependency
        return
    argcomplete.autocomplete(build_parser(everything=True))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and map every outcome to an exit code."""
    args = list(argv) if argv is not None else sys.argv[1:]
    with _signals():
        try:
            if "_ARGCOMPLETE" in os.environ:
                _complete()
            parser = build_parser(args)
            ns = parser.parse_args(args)
            handler = getattr(ns, "handler", None)
            if handler is None:
                if getattr(ns, "command", None):  # a command group without its subcommand
                    raise UsageError(f"missing subcommand (see 'kubecis {ns.command} --help')")
                parser.print_help()
                return 0
            return int(handler(ns) or 0)
        except SystemExit as e:  # argparse after --help
            return e.code if isinstance(e.code, int) else 0
        except KubecisError as e:
            return _fail(str(e), e.exit_code)
        except KeyboardInterrupt:
            return _fail("interrupted", 130)
        except Terminated:
            return _fail("terminated", 143)
        except BrokenPipeError:
            _quiet_stdout()
            return 141
        except RecursionError:
            return _fail("input nested too deeply", 1)
        except MemoryError:
            return _fail("out of memory", 1)
        except Exception as e:
            if os.environ.get("KUBECIS_DEBUG"):
                raise
            return _fail(f"internal error: {type(e).__name__}: {e} (a bug; KUBECIS_DEBUG=1 shows the traceback)", 3)


def _quiet_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Command-line parsing pieces every subcommand shares: the parser class, value types and common options.

kubecis uses :mod:`argparse` (standard library): it adds nothing to start-up, which matters because
``kubecis run`` starts on every node. Flags follow kube-bench's (cobra) conventions where kube-bench has
them: booleans accept ``--flag``, ``--flag=true|false`` and ``--no-flag``; abbreviations are refused.
Every parse error is a :class:`~kubecis.errors.UsageError` (one line, exit 2), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from kubecis.errors import UsageError

# Values accepted for a boolean flag written as --flag=VALUE (Go's strconv.ParseBool, as cobra uses).
_TRUE = frozenset({"1", "t", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "f", "false", "no", "n", "off"})
_TRUE_GO = _TRUE | {"T", "TRUE", "True"}
_FALSE_GO = _FALSE | {"F", "FALSE", "False"}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are :class:`UsageError` and that never guesses abbreviations."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    # The top-level parser reports unknown arguments of the subcommand too; it names that command's help.
    help_hint = ""

    def error(self, message: str) -> NoReturn:
        m = re.match(r"unrecognized arguments: (.*)", message)
        if m:
            message = f"No such option: {m.group(1)}" if m.group(1).startswith("-") else (
                f"unexpected argument: {m.group(1)}")
        raise UsageError(f"{message} (see '{self.help_hint or self.prog} --help')")


class _Formatter(argparse.HelpFormatter):
    """Descriptions keep their paragraphs (blank lines) and indented lines; each paragraph is wrapped."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=min(110, _columns()))

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        out = []
        for para in text.split("\n\n"):
            if para.startswith(" "):
                out.append(para)
            else:
                out.append(textwrap.fill(" ".join(para.split()), width, initial_indent=indent,
                                         subsequent_indent=indent))
        return "\n\n".join(out)


def _columns() -> int:
    try:
        return max(60, os.get_terminal_size().columns - 2)
    except OSError:
        return 100


def bool_flag(parser: argparse.ArgumentParser, name: str, *, default: bool, help: str, dest: str | None = None) -> None:
    """``--name``, ``--name=true|false`` (kube-bench/cobra style) and ``--no-name``."""
    dest = dest or name.lstrip("-").replace("-", "_")
    parser.add_argument(name, dest=dest, nargs="?", const=True, default=default, type=parse_bool, metavar="BOOL",
                        help=f"{help} (default: {str(default).lower()})")
    parser.add_argument("--no-" + name.lstrip("-"), dest=dest, action="store_false", help=argparse.SUPPRESS)


def parse_bool(value: str) -> bool:
    if value in _TRUE_GO or value.lower() in _TRUE:
        return True
    if value in _FALSE_GO or value.lower() in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {value!r} (true or false)")


def exit_status(value: str) -> int:
    """An exit status: an integer 0..255 (a shell cannot see more; 256 would wrap to 0)."""
    try:
        n = int(value, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if not 0 <= n <= 255:
        raise argparse.ArgumentTypeError(f"{value} is out of range (0-255)")
    return n


def positive_seconds(minimum: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            n = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if not (n >= minimum and n < 1e9):  # also rejects nan and inf
            raise argparse.ArgumentTypeError(f"{value} is out of range (at least {minimum:g} seconds)")
        return n

    return parse


def kube_version(value: str) -> str:
    """A ``--version`` value as kube-bench's version_mapping keys look (1.33, eks-1.8.0, ocp-4.13)."""
    from kubecis.benchmark.versions import check_version_string

    try:
        return check_version_string(value)
    except UsageError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def path_arg(value: str) -> Path:
    if not value:
        raise argparse.ArgumentTypeError("empty path")
    if "\0" in value:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL byte")
    return Path(value)


# ---- options several commands share -------------------------------------------------------------------
def add_config_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config-dir", "-D", type=path_arg, metavar="DIR",
                   help="root of kube-bench style benchmark directories (holds config.yaml); default: ./cfg "
                        "if it holds a config.yaml, else the bundled sets")


def add_selection(p: argparse.ArgumentParser, *, targets_help: str = "comma-separated targets "
                  "(master,controlplane,etcd,node,policies,managedservices); default: detect the node's roles") -> None:
    p.add_argument("--targets", "-s", default="", metavar="LIST", help=targets_help)
    add_config_dir(p)
    p.add_argument("--benchmark", default="", metavar="NAME", help="benchmark to run, e.g. cis-1.12 (no mapping)")
    # argparse runs ``type`` on a string default too, so KUBE_BENCH_VERSION is validated like the flag.
    p.add_argument("--version", type=kube_version, default=_env_version(), metavar="X.Y",
                   help="Kubernetes version, mapped to a benchmark (env KUBE_BENCH_VERSION)")


def add_config_file(p: argparse.ArgumentParser) -> None:
    """kube-bench's ``--config FILE``."""
    p.add_argument("--config", dest="config_file", type=path_arg, metavar="FILE",
                   help="the global config file to use instead of config.yaml in the config directory (kube-bench's "
                        "--config); the benchmark directories and their own config.yaml still come from --config-dir")


def _env_version() -> str:
    return os.environ.get("KUBE_BENCH_VERSION", "")


def add_host(p: argparse._ActionsContainer) -> None:
    p.add_argument("--root", type=path_arg, metavar="DIR", help="check a node whose file system is mounted at DIR")
    p.add_argument("--snapshot", type=path_arg, metavar="FILE",
                   help="replay a recorded snapshot file ('example': the one shipped with kubecis)")


def add_objects(p: argparse._ActionsContainer) -> None:
    p.add_argument("--objects", type=path_arg, metavar="PATH",
                   help="evaluate the policies checks (and kubectl audits) against an object dump: kubectl get -A -o "
                        "json output, YAML/JSON manifests, or a directory of them, instead of the live cluster")


def command_after_dashdash(values: Sequence[str]) -> list[str]:
    """The COMMAND ARGS... of ``kubecis x ... -- COMMAND ARGS``: argparse.REMAINDER keeps a leading ``--``."""
    out = list(values)
    if out and out[0] == "--":
        out = out[1:]
    return out

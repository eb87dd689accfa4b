"""`kubecis completion bash|zsh|fish`: the shell code that completes kubecis's commands and flags.

Completion is argcomplete's: the shell calls ``kubecis`` with ``_ARGCOMPLETE`` set, and kubecis answers from
the same parser that parses the command line (so completions never drift from the real flags).
"""

from __future__ import annotations

import argparse
import sys

SHELLS = ("bash", "zsh", "fish")


def build(p: argparse.ArgumentParser, name: str) -> None:
    p.description = ("Print the shell code that completes kubecis's commands and flags. Load it with, for bash: "
                     "eval \"$(kubecis completion bash)\" (e.g. in ~/.bashrc); zsh: the same with zsh; fish: "
                     "kubecis completion fish | source.")
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(handler=completion)


def completion(ns: argparse.Namespace) -> int:
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["kubecis"], shell=ns.shell))
    return 0

"""Differential tests compare kubecis with real tools: first check that the tool on PATH is the real one.

A stand-in (a hermetic node's fake ``kubectl`` that prints a version line, a ``jq`` wrapper script, bash or
busybox linked as ``/bin/sh``) would make a differential test compare kubecis with something else and prove
nothing. Each tool is identified by what only the real one prints when asked for its version (``/bin/sh`` has
no version flag: dash is identified by behaviour where dash differs from bash, busybox sh, mksh). A test that
needs a tool uses :func:`real_tool` (the path to run) or :func:`needs_real` (a skip mark with the reason).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess

import pytest

_COREUTILS = r"\A\S+ \(GNU coreutils\) \d"

# name → (arguments after the tool, regexes its output must all match, what the real tool is)
VERSION_CHECKS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "jq": (("--version",), (r"\Ajq-1\.6\s*\Z",), "jq 1.6"),
    "openssl": (("version",), (r"\AOpenSSL [1-3]\.\d+\.\d+",), "OpenSSL (not LibreSSL)"),
    "ps": (("--version",), (r"\Aps from procps-ng \d",), "procps-ng ps"),
    "journalctl": (("--version",), (r"\Asystemd \d+ ",), "systemd's journalctl"),
    "awk": (("-W", "version"), (r"\Amawk 1\.3\.4",), "mawk 1.3.4"),
    "grep": (("--version",), (r"\A\S*grep \(GNU grep\) \d",), "GNU grep"),
    "sed": (("--version",), (r"\A\S*sed \(GNU sed\) \d",), "GNU sed"),
    "find": (("--version",), (r"\A\S*find \(GNU findutils\) \d",), "GNU findutils find"),
    "xargs": (("--version",), (r"\A\S*xargs \(GNU findutils\) \d",), "GNU findutils xargs"),
    **{t: (("--version",), (_COREUTILS,), f"GNU coreutils {t}")
       for t in ("cat", "stat", "head", "tail", "sort", "uniq", "wc", "tr", "cut", "paste", "basename", "dirname")},
}

# What the native interpreter's utilities reproduce when an audit runs them through /bin/sh.
AUDIT_TOOLS = ("ps", "grep", "sed", "awk", "find", "xargs", "cat", "stat", "head", "tail", "sort", "uniq", "wc", "tr",
               "cut", "paste", "basename", "dirname")


def _output(argv: list[str], env: dict[str, str] | None = None) -> str | None:
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, check=False, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.decode("utf-8", "replace")


def _kubectl_reason(path: str) -> str:
    out = _output([path, "version", "--client", "-o", "json"])
    try:
        client = json.loads(out or "")["clientVersion"]
        ok = (re.fullmatch(r"v1\.\d+\.\d+\S*", client["gitVersion"]) and re.fullmatch(r"[0-9a-f]{40}",
              client["gitCommit"]) and client["goVersion"].startswith("go1.") and client["compiler"] == "gc")
    except (ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if ok:
        return ""
    return f"{path} is not the real kubectl (`kubectl version --client -o json` gave {(out or '')[:80]!r})"


# dash: `echo` expands backslash escapes, no BASH_VERSION, no `[[` (busybox sh and mksh have it: exit 0).
_DASH_PROBE = 'echo "${BASH_VERSION-nobash}"; echo "a\\tb"; [[ 1 ]] 2>/dev/null; echo $?'
_DASH_ANSWER = "nobash\na\tb\n127\n"


def _sh_reason(path: str) -> str:
    real = os.path.realpath(path)
    if os.path.basename(real) != "dash":
        return f"{path} is {real}, not dash"
    out = _output([path, "-c", _DASH_PROBE], env={"PATH": "/usr/bin:/bin"})
    return "" if out == _DASH_ANSWER else f"{path} ({real}) does not behave like dash ({out!r})"


@functools.cache
def _reason(name: str, path: str | None) -> tuple[str | None, str]:
    if name == "sh":
        return ("/bin/sh", "") if not _sh_reason("/bin/sh") else (None, _sh_reason("/bin/sh"))
    found = shutil.which(name, path=path)
    if found is None:
        return None, f"{name} is not installed"
    if name == "kubectl":
        why = _kubectl_reason(found)
        return (found, "") if not why else (None, why)
    args, patterns, what = VERSION_CHECKS[name]
    out = _output([found, *args])
    if out is None or not all(re.search(p, out) for p in patterns):
        return None, f"{found} is not {what} (its version output: {(out or '').strip()[:80]!r})"
    if name == "jq" and _output([found, "-nc", "[1,2] | map(. * 2)"]) != "[2,4]\n":
        return None, f"{found} prints jq's version but does not evaluate jq programs"
    return found, ""


def real_tool(name: str, path: str | None = None) -> str | None:
    """The path of ``name`` found on ``path`` (default: PATH) when it is the real tool, else None.
    ``sh`` means ``/bin/sh`` and must be dash."""
    return _reason(name, path)[0]


def why_not_real(*names: str, path: str | None = None) -> str:
    """"" when every tool is the real one, else the reasons (for a skip)."""
    return "; ".join(r for r in (_reason(n, path)[1] for n in names) if r)


def needs_real(*names: str, path: str | None = None) -> pytest.MarkDecorator:
    """Skip mark: the test compares kubecis with these real tools."""
    why = why_not_real(*names, path=path)
    return pytest.mark.skipif(bool(why), reason=f"not the real tool: {why}")

"""ANSI colours as kube-bench prints them through github.com/fatih/color.

``Color.Printf`` writes the SGR sequence, the formatted text, then ``ESC[0m``;
so whatever kube-bench passes to one ``Printf`` call (including a trailing
newline) sits between the two sequences.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from kubecis.results.model import State

GREEN = "\x1b[32m"
RED = "\x1b[31m"
YELLOW = "\x1b[33m"
BLUE = "\x1b[34m"
RESET = "\x1b[0m"

STATE_COLORS: dict[State, str] = {
    State.PASS: GREEN,
    State.FAIL: RED,
    State.WARN: YELLOW,
    State.INFO: BLUE,
}


def paint(sgr: str, text: str, enabled: bool) -> str:
    """``text`` wrapped in ``sgr`` ... reset when colour is on, else unchanged."""
    return f"{sgr}{text}{RESET}" if enabled else text


def color_enabled(stream: object, environ: Mapping[str, str] | None = None) -> bool:
    """Whether kube-bench (fatih/color) would colour output written to ``stream``.

    Colour is off when ``NO_COLOR`` is set to a non-empty value, when ``TERM`` is
    ``dumb``, or when the stream is not a terminal (no ``isatty`` or it fails).
    """
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", ""):
        return False
    if env.get("TERM", "") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (OSError, ValueError):  # closed or detached stream
        return False


# C0 controls except tab and newline, DEL, and C1 controls (U+0080..U+009F, e.g. the 8-bit CSI U+009B).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """``text`` with terminal control characters shown as ``\\xNN`` (tab and newline kept)."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)

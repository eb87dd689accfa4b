"""Go's text/tabwriter (padchar ' ', no flags), and the RememberWidths flag of kubectl's fork.

kubectl prints tables and ``describe`` output through it; widths count runes, so text holds bytes as the
native interpreter decodes them (invalid UTF-8 as surrogate escapes, one rune each).
"""

from __future__ import annotations

import re

__all__ = ["go_tabwriter"]

_TW_ESCAPE = "\udcff"  # byte 0xff as surrogateescape decodes it: text/tabwriter's Escape
_TW_SPECIAL = re.compile("[\t\v\n\f\udcff]")


def go_tabwriter(text: str, minwidth: int, padding: int, remember: bool = False) -> str:
    """Go's text/tabwriter with padchar ' ' and no flags, fed ``text`` and flushed.

    ``text`` holds bytes decoded with surrogateescape (invalid UTF-8 as surrogate escapes), so a cell's
    ``len`` is Go's ``utf8.RuneCount``. Cells end at tab or vertical tab, lines at newline or form feed
    (which also flushes, ending the column blocks); text between Escape bytes (0xff) is one opaque run.
    ``remember``: the RememberWidths flag of kubectl's fork (github.com/liggitt/tabwriter), starting with no
    remembered widths: a column block is at least as wide as the widest earlier block of the same column,
    across flushes too.
    """
    out: list[str] = []
    done: list[list[tuple[str, int]]] = []  # lines ended since the last flush
    line: list[tuple[str, int]] = []
    cell, width, n, esc = "", 0, 0, False
    maxwidths: list[int] | None = [] if remember else None

    def flush(last: list[tuple[str, int]]) -> None:
        _tw_format([*done, last], minwidth, padding, out, maxwidths)
        done.clear()

    for m in _TW_SPECIAL.finditer(text):
        i, ch = m.start(), m.group()
        if esc:
            if ch == _TW_ESCAPE:
                seg = text[n : i + 1]
                cell, width, n, esc = cell + seg, width + len(seg) - 2, i + 1, False  # Escapes are not counted
        elif ch in "\t\v\n\f":
            seg = text[n:i]
            line.append((cell + seg, width + len(seg)))
            cell, width, n = "", 0, i + 1
            if ch in "\n\f":
                ncells = len(line)
                done.append(line)
                line = []
                if ch == "\f" or ncells == 1:  # a one-cell line cannot affect the columns that follow
                    flush([])
        elif ch == _TW_ESCAPE:
            seg = text[n:i]
            cell, width, n, esc = cell + seg, width + len(seg), i, True
    cell += text[n:]
    if cell:
        # the last cell of a line never sets a column width: its width does not matter
        line.append((cell, width))
    flush(line)
    return "".join(out)


def _tw_format(lines: list[list[tuple[str, int]]], minwidth: int, padding: int, out: list[str],
               maxwidths: list[int] | None = None) -> None:
    """text/tabwriter's format/writeLines over buffered lines; the last one is written without a newline.

    ``maxwidths``: the remembered widths of RememberWidths (updated in place), or None without the flag.
    """
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            for j, (txt, w) in enumerate(lines[i]):
                out.append(txt)
                if j < len(widths):
                    out.append(" " * (widths[j] - w))
            if i + 1 < len(lines):
                out.append("\n")

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:  # no cell in this column (the last cell is not in a column)
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, lines[this][column][1] + padding)
                this += 1
            if maxwidths is not None:
                if len(maxwidths) < len(widths):
                    maxwidths.extend(widths[len(maxwidths):])
                if len(maxwidths) == column:
                    maxwidths.append(width)
                elif maxwidths[column] > width:
                    width = maxwidths[column]
                else:
                    maxwidths[column] = width
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    fmt(0, len(lines))

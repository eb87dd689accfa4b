"""``grep``: GNU grep's options audits use, with GNU's messages.

POSIX regular expressions go through :mod:`kubecis.audit.native.regex`.
"""

from __future__ import annotations

import re

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.regex import PosixRegexError, compile_posix
from kubecis.audit.native.streams import TextSink, dec, enc
from kubecis.audit.native.utilities.common import (
    errstr,
    read_input,
    short_opts,
    split_lines,
)

__all__ = ["u_grep"]


_GNU_RX_ERRORS = {
    "trailing backslash": "Trailing backslash",
    "unmatched ) or \\)": "Unmatched ) or \\)",
    "unmatched ( or \\(": "Unmatched ( or \\(",
    "unbalanced [": "Unmatched [, [^, [:, [., or [=",
    "invalid range end": "Invalid range end",
    "unmatched \\{": "Unmatched \\{",
    "invalid content of \\{\\}": "Invalid content of \\{\\}",
    "invalid character class": "Invalid character class name",
    "regular expression too big": "Regular expression too big",
}


_NO_COLOUR = {"--color", "--colour", "--color=auto", "--colour=auto", "--color=never", "--colour=never"}


_INTMAX = (1 << 63) - 1


_C_SPACE = " \t\n\v\f\r"


def _xstrtoimax(text: str) -> int | None:
    """gnulib ``xstrtoimax(text, NULL, 10, &v, "")``: decimal, leading C blanks and a sign allowed,
    nothing after the digits; out of range clamps (LONGINT_OVERFLOW). None when invalid."""
    body = text.lstrip(_C_SPACE)
    if not re.fullmatch(r"[+-]?[0-9]+", body):
        return None
    negative = body.startswith("-")
    digits = body.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 19:  # beyond intmax_t whatever the digits (and beyond Python's int() digit limit)
        return -_INTMAX - 1 if negative else _INTMAX
    value = -int(digits) if negative else int(digits)
    return max(-_INTMAX - 1, min(_INTMAX, value))


def u_grep(ctx: Ctx, args: list[str]) -> int:
    if "--" in args:
        k = args.index("--")
        args = [a for a in args[:k] if a not in _NO_COLOUR] + args[k:]
    else:
        args = [a for a in args if a not in _NO_COLOUR]  # --color=auto: no colour when not on a terminal
    ordered: list[tuple[str, str]] = []
    opts, rest = short_opts(args, "eABCm", "vEFGoicqswxnhHly", "grep", ordered)
    # numeric arguments are checked while GNU grep parses its options: before anything else, in order
    for c, v in ordered:
        n = _xstrtoimax(v)
        if c == "A" and (n is None or n < 0):
            ctx.error(f"{v}: invalid context length argument")
            return 2
        if c == "m" and n is None:
            ctx.error("invalid max count")
            return 2
    patterns: list[str] = []
    for p in opts.get("e", []):
        patterns.extend(p.split("\n"))
    if "e" not in opts:
        if not rest:
            ctx.err.write(enc(f"Usage: {ctx.prog} [OPTION]... PATTERNS [FILE]...\n"
                              f"Try '{ctx.prog} --help' for more information.\n"))
            return 2
        patterns.extend(rest[0].split("\n"))
        rest = rest[1:]
    files = rest or ["-"]
    invert = "v" in opts
    icase = "i" in opts or "y" in opts
    only = "o" in opts
    count = "c" in opts
    quiet = "q" in opts
    silent = "s" in opts
    after = (_xstrtoimax(opts["A"][-1]) or 0) if "A" in opts else 0
    if "B" in opts or "C" in opts or "n" in opts or "l" in opts:
        raise Unsupported("grep -B/-C/-n/-l")
    maxc = (_xstrtoimax(opts["m"][-1]) or 0) if "m" in opts else -1
    if maxc < 0:
        maxc = -1  # GNU grep 3.8: a negative max count means no limit
    try:
        if "F" in opts:
            rx_src = "|".join(re.escape(p) for p in patterns)
            rx = re.compile(rx_src, (re.I if icase else 0) | re.ASCII)
        else:
            ext = "E" in opts
            pieces = [compile_posix(p, ext, icase).pattern for p in patterns]
            rx = re.compile("|".join(f"(?:{p})" for p in pieces), (re.I if icase else 0) | re.ASCII)
    except PosixRegexError as exc:
        msg = _GNU_RX_ERRORS.get(str(exc))
        if msg is None:
            raise Unsupported(f"grep pattern: {exc}") from None
        ctx.error(msg)
        return 2
    if "w" in opts:
        rx = re.compile(rf"(?<!\w)(?:{rx.pattern})(?!\w)", rx.flags)
    if "x" in opts:
        rx = re.compile(rf"^(?:{rx.pattern})$", rx.flags)
    show_name = ("H" in opts or len(files) > 1) and "h" not in opts
    status = 1
    error = False
    for f in files:
        label = "(standard input)" if f == "-" else f
        try:
            data = read_input(ctx, f)
        except IsADirectoryError:
            if not silent:
                ctx.error(f"{f}: Is a directory")
            error = True
            continue
        except OSError as exc:
            if not silent:
                ctx.error(f"{f}: {errstr(exc)}")
            error = True
            continue
        binary = b"\0" in data
        prefix = f"{label}:" if show_name else ""
        n = 0
        last_printed = -1
        pending_after = 0
        lines = split_lines(data)
        out = TextSink()
        for idx, raw in enumerate(lines):
            line = dec(raw)
            m_any = rx.search(line) is not None
            selected = m_any != invert
            if selected and maxc >= 0 and n >= maxc:
                if pending_after > 0:
                    pass
                else:
                    break
            if selected and not (maxc >= 0 and n >= maxc):
                n += 1
                status = 0
                if quiet:
                    return 0
                if count:
                    continue
                if binary:
                    ctx.write("".join(out))
                    ctx.err.write(enc(f"{ctx.prog}: {label}: binary file matches\n"))
                    out = TextSink()
                    break
                if after and last_printed >= 0 and idx - last_printed > 1:
                    out.append("--\n")
                if only:
                    if not invert:
                        for m in rx.finditer(line):
                            if m.group(0):
                                out.append(prefix + m.group(0) + "\n")
                else:
                    out.append(prefix + line + "\n")
                last_printed = idx
                pending_after = after
            elif pending_after > 0 and not count:
                if not only:
                    out.append(f"{label}-" * show_name + line + "\n")
                last_printed = idx
                pending_after -= 1
            elif maxc >= 0 and n >= maxc:
                break
        if count:
            out.append(f"{prefix}{n}\n")
        ctx.write("".join(out))
    if error and not (quiet and status == 0):
        return 2
    return status

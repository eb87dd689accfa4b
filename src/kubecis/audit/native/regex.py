"""POSIX basic/extended regular expressions (GNU flavour) and shell patterns, as Python ``re``.

Why hand-written: no library translates GNU BRE/ERE (``\\(``, ``\\{``, ``[[:alpha:]]``, GNU's error
messages) or shell globs to ``re``; ``fnmatch`` differs from dash on quoting and bracket rules.
"""

from __future__ import annotations

import functools
import re

from kubecis.errors import ToolError

__all__ = ["PosixRegexError", "compile_posix", "glob_to_regex", "has_glob", "posix_to_python"]

_CLASSES = {
    "alpha": "A-Za-z",
    "digit": "0-9",
    "alnum": "0-9A-Za-z",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "print": " -~",
    "graph": "!-~",
    "cntrl": "\\x00-\\x1f\\x7f",
    "xdigit": "0-9A-Fa-f",
}


class PosixRegexError(ToolError):
    pass


def _bracket(p: str, i: int) -> tuple[str, int]:
    """Translate a bracket expression starting at p[i] == '['; return (python, next index)."""
    j = i + 1
    neg = False
    if j < len(p) and p[j] in "^!":
        # '!' negates only in shell patterns; callers pass allow_bang via pre-check
        neg = p[j] == "^"
        if neg:
            j += 1
    items: list[str] = []
    first = True
    while True:
        if j >= len(p):
            raise PosixRegexError("unbalanced [")
        c = p[j]
        if c == "]" and not first:
            j += 1
            break
        first = False
        if c == "[" and j + 1 < len(p) and p[j + 1] in ":.=":
            kind = p[j + 1]
            end = p.find(kind + "]", j + 2)
            if end < 0:
                raise PosixRegexError("unbalanced [")
            name = p[j + 2 : end]
            if kind == ":":
                if name not in _CLASSES:
                    raise PosixRegexError("invalid character class")
                items.append(_CLASSES[name])
            else:
                items.append(re.escape(name))
            j = end + 2
            continue
        if j + 2 < len(p) and p[j + 1] == "-" and p[j + 2] != "]":
            lo, hi = c, p[j + 2]
            if ord(lo) > ord(hi):
                raise PosixRegexError("invalid range end")
            items.append(f"{re.escape(lo)}-{re.escape(hi)}")
            j += 3
            continue
        items.append(re.escape(c) if c not in "-" else "\\-")
        j += 1
    return "[" + ("^" if neg else "") + "".join(items) + "]", j


def posix_to_python(p: str, extended: bool) -> str:
    """GNU BRE/ERE -> Python regex (leftmost-first; adequate for matching and the audits' captures)."""
    out: list[str] = []
    i = 0
    n = len(p)
    at_start = True  # start of RE or of a group/alternative: '*' literal, '^' anchor (BRE)
    depth = 0
    while i < n:
        c = p[i]
        start_here = at_start
        at_start = False
        if c == "\\":
            if i + 1 >= n:
                raise PosixRegexError("trailing backslash")
            d = p[i + 1]
            i += 2
            if not extended and d in "(){}|+?":
                if d == "(":
                    out.append("(")
                    depth += 1
                    at_start = True
                elif d == ")":
                    if depth == 0:
                        raise PosixRegexError("unmatched ) or \\)")
                    depth -= 1
                    out.append(")")
                elif d == "|":
                    out.append("|")
                    at_start = True
                elif d == "{":
                    end = p.find("\\}", i)
                    if end < 0:
                        raise PosixRegexError("unmatched \\{")
                    body = p[i:end]
                    if not re.fullmatch(r"[0-9]*(,[0-9]*)?", body) or not body:
                        raise PosixRegexError("invalid content of \\{\\}")
                    _check_interval(body)
                    out.append("{" + (body if not body.startswith(",") else "0" + body) + "}")
                    i = end + 2
                else:
                    out.append(d)
                continue
            if d in "wWsSbB":
                out.append("\\" + d)
            elif d == "<":
                out.append(r"\b(?=\w)")
            elif d == ">":
                out.append(r"\b(?<=\w)")
            elif d == "`":
                out.append(r"\A")
            elif d == "'":
                out.append(r"\Z")
            elif d.isdigit() and d != "0":
                out.append("\\" + d)
            else:
                out.append(re.escape(d))
            continue
        if c == "[":
            br, i = _bracket(p, i)
            out.append(br)
            continue
        i += 1
        if c == ".":
            out.append(".")
        elif c == "*":
            out.append("\\*" if start_here else "*")
        elif c == "^":
            if extended or start_here:
                out.append("^")
                at_start = not extended or start_here
            else:
                out.append("\\^")
        elif c == "$":
            if extended:
                out.append("$")
            else:
                rest = p[i:]
                if rest == "" or rest.startswith("\\)") or rest.startswith("\\|"):
                    out.append("$")
                else:
                    out.append("\\$")
        elif extended and c in "()|+?{":
            if c == "(":
                depth += 1
                out.append("(")
                at_start = True
            elif c == ")":
                if depth == 0:
                    out.append("\\)")
                else:
                    depth -= 1
                    out.append(")")
            elif c == "|":
                out.append("|")
                at_start = True
            elif c == "{":
                m = re.match(r"([0-9]+)(,([0-9]*))?\}", p[i:])
                if m:
                    _check_interval(m.group(0)[:-1])
                    out.append("{" + m.group(0))
                    i += m.end()
                else:
                    out.append("\\{")
            else:
                out.append("\\" + c if start_here else c)
        else:
            out.append(re.escape(c))
    if depth:
        raise PosixRegexError("unmatched ( or \\(")
    return "".join(out)


RE_DUP_MAX = 0x7FFF  # glibc's bound on an interval's counts


def _check_interval(body: str) -> None:
    """glibc's checks of ``{m,n}``: a count over RE_DUP_MAX is "too big", m > n is invalid content."""
    lo_s, _, hi_s = body.partition(",")
    counts = [c for c in (lo_s, hi_s) if c]
    if any(len(c.lstrip("0")) > 5 or int(c) > RE_DUP_MAX for c in counts):
        raise PosixRegexError("regular expression too big")
    if lo_s and hi_s and int(lo_s) > int(hi_s):
        raise PosixRegexError("invalid content of \\{\\}")


@functools.lru_cache(maxsize=1024)
def compile_posix(p: str, extended: bool, icase: bool = False) -> re.Pattern[str]:
    """A POSIX BRE/ERE as a compiled Python pattern (memoised: fleets and replays grep the same patterns)."""
    try:
        return re.compile(posix_to_python(p, extended), (re.IGNORECASE if icase else 0) | re.ASCII)
    except (re.error, OverflowError, RecursionError) as exc:  # Python's own bounds on a pattern
        raise PosixRegexError(str(exc)) from None


def glob_to_regex(segments: list[tuple[str, bool]], period: bool = False) -> str:
    """Shell pattern -> Python regex. ``segments``: (text, active) where inactive text is literal."""
    out: list[str] = []
    first = True
    for text, active in segments:
        i = 0
        while i < len(text):
            c = text[i]
            if not active:
                out.append(re.escape(c))
            elif c == "*":
                out.append("(?!\\.)" if period and first and not out else "")
                out.append(".*")
            elif c == "?":
                out.append("(?!\\.)" if period and first and not out else "")
                out.append(".")
            elif c == "\\" and i + 1 < len(text):
                i += 1
                out.append(re.escape(text[i]))
            elif c == "[":
                end = text.find("]", i + 2 if i + 1 < len(text) and text[i + 1] in "!^" else i + 1)
                if end < 0:
                    out.append("\\[")
                else:
                    body = text[i + 1 : end]
                    neg = body[:1] in ("!", "^")
                    if neg:
                        body = body[1:]
                    try:
                        br, _ = _bracket("[" + body + "]", 0)
                    except PosixRegexError:
                        out.append("\\[")
                        i += 1
                        continue
                    out.append(("[^" + br[1:]) if neg else br)
                    i = end
            else:
                out.append(re.escape(c))
            i += 1
        first = False
    return "".join(out)


def has_glob(segments: list[tuple[str, bool]]) -> bool:
    return any(active and ("*" in text or "?" in text or "[" in text) for text, active in segments)

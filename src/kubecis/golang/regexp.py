"""Compile Go (RE2) regular expressions with Python's ``re``.

kube-bench builds regexes from benchmark data in three places (the ``regex``
compare op, the flag-extraction pattern and the env-extraction pattern) and
compiles them with Go's ``regexp``. The shipped data only uses syntax that means
the same in both engines, but the grammars differ at the edges, so every
pattern goes through :func:`translate` first:

* RE2's ``$`` (without ``m``) is end-of-text; Python's also matches before a
  final newline, so it becomes ``\\Z``. RE2's ``\\z`` becomes ``\\Z``.
* ``\\d \\s \\w`` are ASCII-only in RE2 (``\\s`` excludes ``\\v``); they are
  spelled out as ASCII classes.
* ``(?i)`` in the middle of a pattern scopes to the rest of its group in RE2 and
  is an error in Python 3.11; flag groups become scoped ``(?i:...)`` groups.
* ``\\Q...\\E``, ``\\x{...}``, octal escapes, ``(?<name>``, POSIX ``[:alpha:]``
  classes are rewritten.
* Perl features RE2 rejects (look-around, back-references, atomic groups,
  possessive quantifiers, ``\\Z``, repeat counts over 1000) are rejected here
  too, so a pattern kube-bench cannot compile is never silently accepted.

Unicode classes (``\\pL``) are not translated; such a pattern is reported as
unusable rather than matched wrongly. kube-bench panics on an invalid pattern;
callers turn :class:`RegexpError` into a check error instead.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import field
from functools import lru_cache

from kubecis.golang.errors import RegexpError
from kubecis.records import dataclass

__all__ = ["RegexpError", "compile_go", "translate"]

_ASCII_CLASSES = {
    "d": "0-9",
    "s": "\\t\\n\\f\\r ",
    "w": "0-9A-Za-z_",
}

_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}

_SIMPLE_ESCAPES = set("afnrtv")
_MAX_REPEAT = 1000
_REPEAT_RE = re.compile(r"\{(\d+)(,(\d*))?\}")


def _char_escape(cp: int) -> str:
    return f"\\U{cp:08x}" if cp > 0xFFFF else f"\\u{cp:04x}"


def _parse_escape(pat: str, i: int, in_class: bool) -> tuple[str, int]:
    """Translate the escape starting at ``pat[i] == '\\\\'``; return (python text, next index)."""
    if i + 1 >= len(pat):
        raise RegexpError("trailing backslash at end of expression")
    c = pat[i + 1]
    j = i + 2
    if c in _ASCII_CLASSES:
        body = _ASCII_CLASSES[c]
        return (body if in_class else f"[{body}]"), j
    if c in "DSW":
        if in_class:
            raise RegexpError(f"unsupported negated class \\{c} inside brackets")
        return f"[^{_ASCII_CLASSES[c.lower()]}]", j
    if c in _SIMPLE_ESCAPES:
        return "\\" + c, j
    if c == "x":
        if j < len(pat) and pat[j] == "{":
            end = pat.find("}", j)
            digits = pat[j + 1 : end] if end > 0 else ""
            if not digits or not re.fullmatch(r"[0-9A-Fa-f]+", digits) or int(digits, 16) > 0x10FFFF:
                raise RegexpError("invalid escape sequence: \\x{")
            return _char_escape(int(digits, 16)), end + 1
        digits = pat[j : j + 2]
        if not re.fullmatch(r"[0-9A-Fa-f]{2}", digits):
            raise RegexpError("invalid escape sequence: \\x")
        return _char_escape(int(digits, 16)), j + 2
    if c.isdigit() and c.isascii():
        if c in "89":
            raise RegexpError(f"invalid escape sequence: \\{c}")
        m = re.match(r"[0-7]{1,3}", pat[i + 1 :])
        assert m is not None
        digits = m.group(0)
        if c != "0" and len(digits) == 1:
            raise RegexpError(f"invalid escape sequence: \\{c} (backreferences are not supported)")
        value = int(digits, 8)
        return _char_escape(value), i + 1 + len(digits)
    if not in_class and c in "AbB":
        return "\\" + c, j
    if not in_class and c == "z":
        return "\\Z", j
    if (c.isascii() and c.isalnum()) or c == "_":
        raise RegexpError(f"invalid escape sequence: \\{c}")
    # Escaped punctuation (or any non-ASCII rune) is that literal character.
    return re.escape(c), j


def _parse_class(pat: str, i: int) -> tuple[str, int]:
    """Translate a bracket expression starting at ``pat[i] == '['``."""
    out = ["["]
    j = i + 1
    if j < len(pat) and pat[j] == "^":
        out.append("^")
        j += 1
    first = True
    while True:
        if j >= len(pat):
            raise RegexpError("missing closing ]")
        c = pat[j]
        if c == "]" and not first:
            out.append("]")
            return "".join(out), j + 1
        first = False
        if c == "[" and pat.startswith("[:", j):
            end = pat.find(":]", j + 2)
            name = pat[j + 2 : end] if end > 0 else ""
            negated = name.startswith("^")
            if end > 0 and name.lstrip("^") in _POSIX:
                if negated:
                    raise RegexpError(f"unsupported negated POSIX class [:{name}:]")
                out.append(_POSIX[name])
                j = end + 2
                continue
        if c == "\\":
            text, j = _parse_escape(pat, j, in_class=True)
            out.append(text)
            continue
        out.append("\\" + c if c in "[]&~|" else c)
        j += 1


def _check_repeat(pat: str, i: int) -> int:
    """Validate a ``{n,m}`` repeat at ``pat[i]``; return its length (0 if it is a literal brace)."""
    m = _REPEAT_RE.match(pat, i)
    if not m:
        return 0
    lo = int(m.group(1))
    hi = m.group(3)
    if lo > _MAX_REPEAT or (hi not in (None, "") and (int(hi) > _MAX_REPEAT or int(hi) < lo)):
        raise RegexpError(f"invalid repeat count: {m.group(0)}")
    return m.end() - i


def translate(pattern: str) -> str:
    """Rewrite an RE2 pattern into a Python ``re`` pattern with the same meaning."""
    out: list[str] = []
    stack = [_Group()]
    i = 0
    n = len(pattern)
    prev_quant = False  # last token was a quantifier (for possessive/nested repeat detection)
    while i < n:
        c = pattern[i]
        quant = False
        if c == "\\":
            if pattern.startswith("\\Q", i):
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(literal))
                i = n if end < 0 else end + 2
            else:
                text, i = _parse_escape(pattern, i, in_class=False)
                out.append(text)
        elif c == "[":
            text, i = _parse_class(pattern, i)
            out.append(text)
        elif c == "(":
            i = _open_group(pattern, i, out, stack)
        elif c == ")":
            if len(stack) == 1:
                raise RegexpError("unexpected )")
            out.append(")" * (len(stack.pop().scopes) + 1))
            i += 1
        elif c == "|":
            # RE2 flags set by (?i) last to the end of the group, across alternatives; the scoped
            # Python groups standing in for them must not swallow the alternation, so close and reopen.
            scopes = stack[-1].scopes
            out.append(")" * len(scopes) + "|" + "".join(scopes))
            i += 1
        elif c == "$":
            out.append("$" if stack[-1].multiline else "\\Z")
            i += 1
        elif c in "*+?":
            if prev_quant and c != "?":
                raise RegexpError(f"invalid nested repetition operator: {pattern[i - 1 : i + 1]}")
            out.append(c)
            i += 1
            quant = c != "?" or not prev_quant
        elif c == "{":
            length = _check_repeat(pattern, i)
            if length:
                if prev_quant:
                    raise RegexpError("invalid nested repetition operator")
                out.append(pattern[i : i + length])
                i += length
                quant = True
            else:
                out.append("\\{")
                i += 1
        elif c in "}]":
            out.append("\\" + c)
            i += 1
        else:
            out.append(re.escape(c) if c in "#&~ \t\n" else c)
            i += 1
        prev_quant = quant
    if len(stack) != 1:
        raise RegexpError("missing closing )")
    out.append(")" * len(stack[0].scopes))
    return "".join(out)


_FLAG_GROUP = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")


@dataclass
class _Group:
    """An open group: the scoped flag groups opened inside it by ``(?flags)``, and the m flag."""

    scopes: list[str] = field(default_factory=list)
    multiline: bool = False


def _open_group(pat: str, i: int, out: list[str], stack: list[_Group]) -> int:
    multiline = stack[-1].multiline
    if not pat.startswith("(?", i):
        out.append("(")
        stack.append(_Group(multiline=multiline))
        return i + 1
    m = _FLAG_GROUP.match(pat, i)
    if m and (m.group(1) or m.group(2) is not None):
        on, off, kind = m.group(1), m.group(2) or "", m.group(3)
        if "U" in on + off:
            raise RegexpError("unsupported flag U (ungreedy)")
        if m.group(2) is not None and not off:
            raise RegexpError("missing flags after -")
        if "m" in on:
            multiline = True
        if "m" in off:
            multiline = False
        scoped = f"(?{on}" + (f"-{off}" if off else "") + ":"
        if on == "" and off == "":
            scoped = "(?:"
        out.append(scoped)
        if kind == ":":
            stack.append(_Group(multiline=multiline))
        else:
            # (?i) applies to the rest of the enclosing group: close it when that group closes.
            stack[-1].scopes.append(scoped)
            stack[-1].multiline = multiline
        return m.end()
    if pat.startswith("(?:", i):
        out.append("(?:")
        stack.append(_Group(multiline=multiline))
        return i + 3
    named = re.match(r"\(\?P?<([A-Za-z0-9_]+)>", pat[i:])
    if named:
        out.append(f"(?P<{named.group(1)}>")
        stack.append(_Group(multiline=multiline))
        return i + named.end()
    raise RegexpError(f"invalid or unsupported Perl syntax: {pat[i : i + 3]}")


@lru_cache(maxsize=4096)
def compile_go(pattern: str) -> re.Pattern[str]:
    """Compile an RE2 pattern, raising :class:`RegexpError` when Go or Python would reject it."""
    translated = translate(pattern)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(translated)
    except (re.error, OverflowError, RecursionError) as exc:
        raise RegexpError(f"error parsing regexp: {exc}") from exc

"""go-yaml v2's emitter (what ``kubectl -o yaml`` prints, through sigs.k8s.io/yaml), for decoded JSON values.

kubectl marshals an object to JSON and converts it to YAML with go-yaml v2: map keys sorted the way go-yaml
sorts them, scalars quoted exactly when go-yaml's resolver would read them back as something else, long
plain and quoted scalars folded at 80 columns, multi-line strings as literal blocks. The cases this port does
not reproduce byte for byte raise :class:`~kubecis.golang.errors.NotReproduced` rather than guess.
"""

from __future__ import annotations

import re
from typing import Any

from kubecis.golang.errors import NotReproduced
from kubecis.golang.fmt import go_float
from kubecis.golang.json import go_json_float

__all__ = ["go_yaml"]

_YAML_NOT_STR = re.compile(
    r"(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|<<"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))"
)
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_YAML_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_YAML_INT = re.compile(r"[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+|[0-9_]+)")
WIDTH = 80


_YAML_TS = re.compile(
    r"(\d{4})-(\d\d?)-(\d\d?)(?:(?:[Tt](\d\d?):(\d\d?):(\d\d?)(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))"
    r"|(?: (\d\d?):(\d\d?):(\d\d?)(?:\.\d+)?))?"
)


def _yaml_timestamp(s: str) -> bool:
    """go-yaml v2 parseTimestamp (time.Parse of its four layouts, with Go's range checks)."""
    import calendar

    m = _YAML_TS.fullmatch(s)
    if not m:
        return False
    y, mo, d = int(m[1]), int(m[2]), int(m[3])
    if not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(y, mo)[1]:
        return False
    hms = [int(x) for x in (m[4], m[5], m[6]) if x] or [int(x) for x in (m[7], m[8], m[9]) if x]
    return not hms or (hms[0] < 24 and hms[1] < 60 and hms[2] < 60)


def _yaml_resolves_to_str(s: str) -> bool:
    """go-yaml v2 resolve(): would this plain scalar read back as a string?"""
    if s == "" or _YAML_NOT_STR.fullmatch(s):
        return False
    if s[0] in "-+.0123456789":
        plain = s.replace("_", "")
        if _YAML_INT.fullmatch(plain) or _YAML_FLOAT.fullmatch(plain):
            return False
        if _yaml_timestamp(s):
            return False
    return not _YAML_BASE60.fullmatch(s)


def _printable(c: str) -> bool:
    o = ord(c)
    # go-yaml's is_printable on UTF-8 bytes: NEL and characters beyond the BMP are not "printable"
    return o == 0x0A or 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xD7FF or (0xE000 <= o <= 0xFFFD and o != 0xFEFF)


_BREAKS = "\r\n\x85\u2028\u2029"


class _Scalar:
    """yaml_emitter_analyze_scalar."""

    def __init__(self, v: str) -> None:
        self.multiline = False
        if not v:
            self.flow_plain = False
            self.block_plain = self.single = True
            self.block = False
            return
        flow_ind = block_ind = v.startswith(("---", "..."))
        lead_space = lead_break = trail_space = trail_break = False
        break_space = space_break = special = line_breaks = False
        prev_space = prev_break = False
        preceded_ws = True
        n = len(v)
        for i, c in enumerate(v):
            followed_ws = i + 1 >= n or v[i + 1] in " \t" + _BREAKS
            if i == 0:
                if c in "#,[]{}&*!|>'\"%@`":
                    flow_ind = block_ind = True
                elif c in "?:":
                    flow_ind = True
                    block_ind = block_ind or followed_ws
                elif c == "-" and followed_ws:
                    flow_ind = block_ind = True
            else:
                if c in ",?[]{}":
                    flow_ind = True
                elif c == ":":
                    flow_ind = True
                    block_ind = block_ind or followed_ws
                elif c == "#" and preceded_ws:
                    flow_ind = block_ind = True
            if not _printable(c):
                special = True
            if c == " ":
                lead_space = lead_space or i == 0
                trail_space = trail_space or i == n - 1
                break_space = break_space or prev_break
                prev_space, prev_break = True, False
            elif c in _BREAKS:
                line_breaks = True
                lead_break = lead_break or i == 0
                trail_break = trail_break or i == n - 1
                space_break = space_break or prev_space
                prev_space, prev_break = False, True
            else:
                prev_space = prev_break = False
            preceded_ws = c in " \t" + _BREAKS
        self.multiline = line_breaks
        self.flow_plain = self.block_plain = self.single = self.block = True
        if lead_space or lead_break or trail_space or trail_break:
            self.flow_plain = self.block_plain = False
        if trail_space:
            self.block = False
        if break_space:
            self.flow_plain = self.block_plain = self.single = False
        if space_break or special:
            self.flow_plain = self.block_plain = self.single = self.block = False
        if line_breaks:
            self.flow_plain = self.block_plain = False
        if flow_ind:
            self.flow_plain = False
        if block_ind:
            self.block_plain = False


_DQ_ESC = {"\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r",
           "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P"}


class _YamlEmitter:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.open_ended = False
        self.fresh_line = False  # a block scalar ended with its line break (go-yaml's "indention")

    def put(self, s: str) -> None:
        self.out.append(s)
        self.column += len(s)

    def newline(self) -> None:
        self.out.append("\n")
        self.column = 0
        self.whitespace = True

    def indent_to(self, indent: int) -> None:
        if not self.fresh_line:
            self.newline()
        self.fresh_line = False
        self.put(" " * indent)

    # scalars -------------------------------------------------------------------------------------
    def scalar(self, v: Any, indent: int, key: bool) -> None:
        if v is None:
            text, style = "null", "plain"
        elif isinstance(v, bool):
            text, style = ("true" if v else "false"), "plain"
        elif isinstance(v, int):
            text, style = str(v), "plain"
        elif isinstance(v, float):
            text = go_float(v)
            text = {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(text, text)
            style = "plain"
        else:
            text = str(v)
            if "\n" in text:
                style = "literal"
            elif _yaml_resolves_to_str(text):
                style = "plain"
            else:
                style = "double"
            a = _Scalar(text)
            if key and a.multiline:
                style = "double"
            if style == "plain" and (not a.block_plain or (not text and key)):
                style = "single"
            if style == "single" and not a.single:
                style = "double"
            if style == "literal" and (not a.block or key):
                style = "double"
        if key and len(text) > 128:
            raise NotReproduced("long mapping key")
        allow_breaks = not key
        if not self.whitespace:
            self.put(" ")
        if style == "plain":
            self._plain(text, indent, allow_breaks)
        elif style == "single":
            self._single(text, indent, allow_breaks)
        elif style == "double":
            self._double(text, indent, allow_breaks)
        else:
            self._literal(text, indent)
        self.whitespace = False

    def _plain(self, v: str, indent: int, allow_breaks: bool) -> None:
        spaces = False
        i = 0
        while i < len(v):
            c = v[i]
            if c == " ":
                if allow_breaks and not spaces and self.column > WIDTH and not (i + 1 < len(v) and v[i + 1] == " "):
                    self.indent_to(indent)
                else:
                    self.put(c)
                spaces = True
            else:
                self.put(c)
                spaces = False
            i += 1

    def _single(self, v: str, indent: int, allow_breaks: bool) -> None:
        self.put("'")
        spaces = False
        n = len(v)
        for i, c in enumerate(v):
            if c == " ":
                if (allow_breaks and not spaces and self.column > WIDTH and 0 < i < n - 1
                        and not (i + 1 < n and v[i + 1] == " ")):
                    self.indent_to(indent)
                else:
                    self.put(c)
                spaces = True
            elif c in _BREAKS:
                raise NotReproduced("line break in a single-quoted scalar")
            else:
                self.put("''" if c == "'" else c)
                spaces = False
        self.put("'")

    def _double(self, v: str, indent: int, allow_breaks: bool) -> None:
        self.put('"')
        spaces = False
        n = len(v)
        for i, c in enumerate(v):
            o = ord(c)
            if not _printable(c) or o == 0xFEFF or c in _BREAKS or c in '"\\':
                if c in _DQ_ESC:
                    self.put("\\" + _DQ_ESC[c])
                elif o <= 0xFF:
                    self.put(f"\\x{o:02X}")
                elif o <= 0xFFFF:
                    self.put(f"\\u{o:04X}")
                else:
                    self.put(f"\\U{o:08X}")
                spaces = False
            elif c == " ":
                if allow_breaks and not spaces and self.column > WIDTH and 0 < i < n - 1:
                    self.indent_to(indent)
                    if i + 1 < n and v[i + 1] == " ":
                        self.put("\\")
                else:
                    self.put(c)
                spaces = True
            else:
                self.put(c)
                spaces = False
        self.put('"')

    def _literal(self, v: str, indent: int) -> None:
        hint = "|"
        if v[0] in " " + _BREAKS:
            hint += "2"
        self.open_ended = False
        if v[-1] not in _BREAKS:
            hint += "-"
        elif len(v) == 1 or v[-2] in _BREAKS:
            hint += "+"
            self.open_ended = True
        self.put(hint)
        self.newline()
        breaks = True
        for c in v:
            if c in _BREAKS:
                if c != "\n":
                    raise NotReproduced("non-newline line break in a literal scalar")
                self.newline()
                breaks = True
            else:
                if breaks:
                    self.put(" " * indent)
                    breaks = False
                self.put(c)
        self.fresh_line = breaks

    # collections ---------------------------------------------------------------------------------
    def node(self, v: Any, indent: int, in_seq: bool = False) -> None:
        """Emit ``v`` as the value after a key (``key:``) or a sequence dash; ``indent`` is its block indent."""
        if isinstance(v, dict) and v:
            for k_i, k in enumerate(_yaml_sorted(v)):
                if k_i > 0 or not in_seq:
                    self.indent_to(indent)
                self.whitespace = True
                self.scalar(k, indent, key=True)
                self.put(":")
                child = v[k]
                if isinstance(child, dict) and child:
                    self.node(child, indent + 2)
                elif isinstance(child, list) and child:
                    self.node(child, indent)
                else:
                    self._leaf(child, indent + 2)
        elif isinstance(v, list) and v:
            for i_i, item in enumerate(v):
                if i_i > 0 or not in_seq:
                    self.indent_to(indent)
                self.whitespace = True
                self.put("-")
                self.whitespace = False
                if isinstance(item, dict | list) and item:
                    self.put(" ")
                    self.whitespace = True
                    self.node(item, indent + 2, in_seq=True)
                else:
                    self._leaf(item, indent + 2)
        else:
            self._leaf(v, indent)

    def _leaf(self, v: Any, indent: int) -> None:
        if isinstance(v, dict):
            self.put(" {}" if not self.whitespace else "{}")
        elif isinstance(v, list):
            self.put(" []" if not self.whitespace else "[]")
        else:
            self.scalar(v, indent, key=False)
        self.whitespace = False


def _yaml_key_less(a: str, b: str) -> bool:
    """go-yaml v2 keyList.Less for two string keys (letters after other runes, digit runs compared numerically)."""
    ar, br = a, b
    for i in range(min(len(ar), len(br))):
        if ar[i] == br[i]:
            continue
        al, bl = ar[i].isalpha(), br[i].isalpha()
        if al and bl:
            return ar[i] < br[i]
        if al or bl:
            return bl
        an = bn = 0
        if ar[i] == "0" or br[i] == "0":
            j = i - 1
            while j >= 0 and ar[j].isdigit():
                if ar[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(ar) and ar[ai].isdigit():
            an = an * 10 + int(ar[ai])
            ai += 1
        bi = i
        while bi < len(br) and br[bi].isdigit():
            bn = bn * 10 + int(br[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ar[i] < br[i]
    return len(ar) < len(br)


def _yaml_cmp(a: str, b: str) -> int:
    return -1 if _yaml_key_less(a, b) else (1 if a != b else 0)


def _yaml_sorted(d: dict[str, Any]) -> list[str]:
    import functools

    keys = sorted(d, key=functools.cmp_to_key(_yaml_cmp))
    # go-yaml's order is not transitive for some digit/letter mixes (e.g. 1x < 9 < 10 < 1x): the result then
    # depends on Go's map iteration order, so it cannot be reproduced
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if _yaml_key_less(b, a):
                raise NotReproduced("map keys without a stable go-yaml order")
    return keys


def _json_numbers(v: Any) -> Any:
    """Values as they come back from json.Marshal → YAML decoding: integral floats become ints."""
    if isinstance(v, dict):
        return {k: _json_numbers(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_numbers(x) for x in v]
    if isinstance(v, str) and ("\x85" in v or "\ufeff" in v):
        # raw in kubectl's JSON, then folded/stripped by the YAML decoder in JSONToYAML
        raise NotReproduced("string with NEL or BOM characters")
    if isinstance(v, float):

        t = go_json_float(v)
        return int(t) if re.fullmatch(r"-?\d+", t) else float(t)
    return v


def go_yaml(value: Any) -> str:
    """kubectl -o yaml of a decoded object."""
    e = _YamlEmitter()
    v = _json_numbers(value)
    if not isinstance(v, dict) or not v:
        raise NotReproduced("a value that is not a non-empty object")
    e.node(v, 0, in_seq=True)
    if not e.fresh_line:
        e.newline()
    if e.open_ended:
        e.put("...")
        e.newline()
    return "".join(e.out)

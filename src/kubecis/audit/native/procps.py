"""How procps-ng 4 ``ps`` renders command lines and names: its two escaping passes, in the audit's locale.

procps reads ``/proc/PID/cmdline`` with its NULs and newlines turned into spaces (trailing NULs dropped),
then escapes it twice:

1. libproc2's ``escape_str`` (``library/escape.c``): in a UTF-8 locale, control bytes (< 0x20, 0x7f) become
   ``?``; a byte that cannot start a UTF-8 sequence, or a sequence cut by the end of the string, turns
   the whole rest of the string into the C-locale form. In any other locale, every byte goes through the
   C-locale table: controls and 0x7f become ``.``, bytes >= 0x80 become ``?``.
2. ``ps``'s own ``escape_str`` (``ps/output.c``) on the result: in a UTF-8 locale one character at a time
   with glibc's ``mbrtowc``: an invalid sequence gives one ``?`` and moves one byte on, a character that
   ``iswprint`` rejects gives one ``?`` for all its bytes, a printable one is copied; else the same C table.

The kernel command name (``comm``) goes through both passes too; a process without a command line shows
``[comm]``. The locale is what ``setlocale(LC_ALL, "")`` gives ``ps`` from the environment the audit's
shell passes it (``LC_ALL``, else ``LC_<category>``, else ``LANG``): UTF-8 when every category's locale
exists on this machine and ``LC_CTYPE``'s codeset is UTF-8; if any is missing, setlocale fails and ps
stays in the C locale. Locales and ``iswprint`` are glibc's (through ctypes) when available, else the
locale name's codeset and Python's Unicode tables stand in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

__all__ = ["escape", "escape_cmdline", "escape_comm", "escape_name", "ps_locale_utf8"]

# C-locale tables. libproc2: controls and DEL '.', high bytes '?'. ps: the same (its DEL is '.' too).
_C_TABLE = bytes(
    (0x2E if b < 0x20 or b == 0x7F else 0x3F if b >= 0x80 else b) for b in range(256)
)
# libproc2's UTF_tab: the length of a sequence by its first byte; -1 where no sequence starts.
_UTF_LEN = [1] * 0x80 + [-1] * 0x42 + [2] * 0x1E + [3] * 0x10 + [4] * 5 + [-1] * 0x0B

# glibc categories setlocale(LC_ALL, "") sets, with their numbers (locale.h) for newlocale masks.
_CATEGORIES = {
    "LC_CTYPE": 0, "LC_NUMERIC": 1, "LC_TIME": 2, "LC_COLLATE": 3, "LC_MONETARY": 4, "LC_MESSAGES": 5,
    "LC_PAPER": 7, "LC_NAME": 8, "LC_ADDRESS": 9, "LC_TELEPHONE": 10, "LC_MEASUREMENT": 11,
    "LC_IDENTIFICATION": 12,
}
_CODESET = 14  # nl_item CODESET = _NL_ITEM(LC_CTYPE, 14)


class _Glibc:
    def __init__(self) -> None:
        import ctypes  # only when a locale is looked up

        lib = ctypes.CDLL("libc.so.6", use_errno=True)
        self.newlocale = lib.newlocale
        self.newlocale.restype = ctypes.c_void_p
        self.newlocale.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
        self.freelocale = lib.freelocale
        self.freelocale.argtypes = (ctypes.c_void_p,)
        self.nl_langinfo_l = lib.nl_langinfo_l
        self.nl_langinfo_l.restype = ctypes.c_char_p
        self.nl_langinfo_l.argtypes = (ctypes.c_int, ctypes.c_void_p)
        self.iswprint_l = lib.iswprint_l
        self.iswprint_l.restype = ctypes.c_int
        self.iswprint_l.argtypes = (ctypes.c_uint32, ctypes.c_void_p)
        self.ctype: dict[str, int] = {}  # LC_CTYPE locale_t by name, for iswprint_l


@lru_cache(maxsize=1)
def _glibc() -> _Glibc | None:
    try:
        g = _Glibc()
    except (OSError, AttributeError):  # not glibc (musl has no iswprint_l under that name, or no libc.so.6)
        return None
    return g


@lru_cache(maxsize=256)
def _available(category: int, name: str) -> bool:
    g = _glibc()
    if g is None:
        return True  # cannot tell: assume the node has the locale it names
    loc = g.newlocale(1 << category, name.encode("utf-8", "surrogateescape"), None)
    if not loc:
        return False
    g.freelocale(loc)
    return True


def _name_codeset_utf8(name: str) -> bool:
    codeset = name.partition(".")[2].partition("@")[0]
    return codeset.replace("-", "").lower() == "utf8"


@lru_cache(maxsize=256)
def _codeset_utf8(name: str) -> bool:
    if name in ("C", "POSIX"):
        return False
    g = _glibc()
    if g is None:
        return _name_codeset_utf8(name)
    loc = g.newlocale(1 << _CATEGORIES["LC_CTYPE"], name.encode("utf-8", "surrogateescape"), None)
    if not loc:
        return False
    try:
        cs = g.nl_langinfo_l(_CODESET, loc) or b""
    finally:
        g.freelocale(loc)
    return cs.decode("ascii", "replace").upper() == "UTF-8"


def _plain(name: str) -> bool:
    """A locale name to look up (a name with a path in it would make glibc load any file as a locale: an
    environment recorded in a snapshot is data, so such a name counts as missing)."""
    return "/" not in name and not name.startswith(".") and len(name) < 256 and name.isprintable()


def ps_locale_utf8(env: Callable[[str], str | None]) -> str | None:
    """The LC_CTYPE locale ``ps`` started with this environment runs in when its codeset is UTF-8, else None
    (it escapes in the C-locale way)."""
    lc_all = env("LC_ALL") or ""
    lang = env("LANG") or ""
    names = {cat: lc_all or env(var) or lang or "C" for var, cat in _CATEGORIES.items()}
    if not all(n in ("C", "POSIX") or (_plain(n) and _available(cat, n)) for cat, n in names.items()):
        return None  # setlocale(LC_ALL, "") fails as a whole: ps keeps the C locale
    ctype = names[_CATEGORIES["LC_CTYPE"]]
    return ctype if _codeset_utf8(ctype) else None


# --- the two passes ------------------------------------------------------------------------------------


def _lib_escape(s: bytes, utf8: str | None) -> bytes:
    """libproc2 escape_str (library/escape.c: esc_ctl / esc_all)."""
    if not utf8:
        return s.translate(_C_TABLE)
    out = bytearray()
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        k = _UTF_LEN[c]
        if k < 0 or i + k > n:  # corrupt from here on: the C-locale form for the rest
            out += s[i:].translate(_C_TABLE)
            break
        out.append(0x3F if c < 0x20 or c == 0x7F else c)
        out += s[i + 1 : i + k]
        i += k
    return bytes(out)


def _glibc_utf8(s: bytes, i: int) -> tuple[int, int]:
    """glibc's UTF-8 mbrtowc at ``s[i]`` (a non-ASCII byte): (length, code point), or (0, 0) when invalid.
    Like glibc it takes 4-byte forms up to 0x1FFFFF and rejects overlong forms and surrogates."""
    c = s[i]
    if 0xC2 <= c < 0xE0:
        k, v = 2, c & 0x1F
    elif c & 0xF0 == 0xE0:
        k, v = 3, c & 0x0F
    elif c & 0xF8 == 0xF0:
        k, v = 4, c & 0x07
    else:
        return 0, 0
    for j in range(1, k):
        if i + j >= len(s) or s[i + j] & 0xC0 != 0x80:  # the string's NUL ends it: not a trail byte
            return 0, 0
        v = (v << 6) | (s[i + j] & 0x3F)
    if (k > 2 and v >> (5 * k - 4) == 0) or 0xD800 <= v <= 0xDFFF:
        return 0, 0
    return k, v


@lru_cache(maxsize=4096)
def _printable(cp: int, ctype: str) -> bool:
    """glibc's iswprint in that locale (Python's Unicode tables when glibc is not at hand)."""
    g = _glibc()
    if g is not None:
        if ctype not in g.ctype:  # kept for the life of the process, like ps's own locale
            g.ctype[ctype] = g.newlocale(1 << _CATEGORIES["LC_CTYPE"], ctype.encode("utf-8", "surrogateescape"),
                                         None) or 0
        if g.ctype[ctype]:
            return bool(g.iswprint_l(cp, g.ctype[ctype]))
    if cp > 0x10FFFF:
        return False
    cat = unicodedata.category(chr(cp))
    return cat not in ("Cc", "Cn", "Cs", "Zl", "Zp")


def _ps_escape(s: bytes, utf8: str | None) -> bytes:
    """ps/output.c escape_str (escape_str_utf8 in a UTF-8 locale)."""
    if not utf8:
        return s.translate(_C_TABLE)
    out = bytearray()
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c < 0x80:
            out.append(c if 0x20 <= c < 0x7F else 0x3F)
            i += 1
            continue
        k, cp = _glibc_utf8(s, i)
        if k == 0:
            out.append(0x3F)
            i += 1
        elif not _printable(cp, utf8):
            out.append(0x3F)
            i += k
        else:
            out += s[i : i + k]
            i += k
    return bytes(out)


def escape(s: bytes, utf8: str | None) -> bytes:
    """Both passes, as ps prints a command name or command line it read. ``utf8``: the UTF-8 LC_CTYPE locale
    (:func:`ps_locale_utf8`), or None for the C-locale form."""
    return _ps_escape(_lib_escape(s, utf8), utf8)


def escape_name(name: bytes, utf8: str | None) -> bytes:
    """A user name (ps escapes it once: it does not come through libproc2's reader)."""
    return _ps_escape(name, utf8)


def escape_comm(comm: bytes, utf8: str | None) -> bytes:
    return escape(comm, utf8)


def escape_cmdline(argv: list[bytes], comm: bytes, utf8: str | None) -> bytes:
    """``args``/``cmd``/``command``: the command line as procps reads it (NULs and newlines as spaces,
    trailing NULs dropped), or ``[comm]`` when there is none; an all-empty command line prints ``?``."""
    if not argv:
        return _ps_escape(b"[" + _lib_escape(comm, utf8) + b"]", utf8)
    raw = b"\0".join(argv).rstrip(b"\0").replace(b"\0", b" ").replace(b"\n", b" ")
    return escape(raw, utf8) or b"?"

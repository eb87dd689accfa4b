"""``journalctl`` over the node's journal files (systemd 252 output, byte for byte).

Supported: ``-u/--unit UNIT`` (repeatable, ORed, unit matching as journalctl's
``add_matches_for_unit``), ``-m/--merge``, ``-D/--directory DIR``, ``-q/--quiet``,
``--no-pager``, ``-l/--full``, ``-o/--output short|cat``. Output goes to a pipe,
so there is no pager, no colour and no ellipsization (journalctl's ``--full`` is
the default). Anything else (field matches, ``--since``, ``-b``, other output
modes, unit globs) is :class:`Unsupported`.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zoneinfo
from collections.abc import Callable

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.host.journal import JournalEntry, JournalQuery, JournalUnsupported, query

__all__ = ["u_journalctl"]

PRINT_CHAR_THRESHOLD = 300
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNIT_TYPES = (
    "service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice", "scope",
)
_UNIT_CHARS = re.compile(r"[A-Za-z0-9:_.\\-]+")
_LONG_ARG = {"unit": "u", "directory": "D", "output": "o"}
_LONG_FLAG = {"merge": "m", "quiet": "q", "no-pager": "", "full": ""}


def _mangle_unit(name: str) -> str:
    """``unit_name_mangle_with_suffix(name, ".service")`` for plain names."""
    if not name or any(c in name for c in "*?[") or name.startswith("/") or "@" in name:
        raise Unsupported(f"journalctl -u {name}")
    if not _UNIT_CHARS.fullmatch(name):
        raise Unsupported(f"journalctl -u {name}")
    base, dot, suffix = name.rpartition(".")
    if dot and base and suffix in _UNIT_TYPES:
        return name
    return name + ".service"


def _parse(args: list[str]) -> tuple[list[str], bool, str | None, bool, str]:
    units: list[str] = []
    merge = quiet = False
    directory: str | None = None
    output = "short"

    def take(opt: str, val: str) -> None:
        nonlocal directory, output
        if opt == "u":
            units.append(_mangle_unit(val))
        elif opt == "D":
            directory = val
        elif opt == "o":
            if val not in ("short", "cat"):
                raise Unsupported(f"journalctl -o {val}")
            output = val

    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            if i < len(args):
                raise Unsupported("journalctl matches")
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name in _LONG_ARG:
                if not eq:
                    if i >= len(args):
                        raise Unsupported(f"journalctl {a} without argument")
                    val = args[i]
                    i += 1
                take(_LONG_ARG[name], val)
            elif name in _LONG_FLAG and not eq:
                if _LONG_FLAG[name] == "m":
                    merge = True
                elif _LONG_FLAG[name] == "q":
                    quiet = True
            else:
                raise Unsupported(f"journalctl {a}")
            continue
        if a.startswith("-") and len(a) > 1:
            k = 1
            while k < len(a):
                c = a[k]
                k += 1
                if c in "uDo":
                    val = a[k:]
                    if not val:
                        if i >= len(args):
                            raise Unsupported(f"journalctl -{c} without argument")
                        val = args[i]
                        i += 1
                    take(c, val)
                    break
                if c == "m":
                    merge = True
                elif c == "q":
                    quiet = True
                elif c == "l":
                    pass
                else:
                    raise Unsupported(f"journalctl -{c}")
            continue
        raise Unsupported("journalctl matches")
    return units, merge, directory, quiet, output


# ---------------------------------------------------------------------------------------------- formatting


def _printable(b: bytes, allow_newline: bool = True) -> bool:
    """systemd's ``utf8_is_printable_newline``."""
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    for ch in s:
        o = ord(ch)
        if 0xFDD0 <= o <= 0xFDEF or (o & 0xFFFE) == 0xFFFE:
            return False
        if (o < 0x20 and ch != "\t" and not (allow_newline and ch == "\n")) or 0x7F <= o <= 0x9F:
            return False
    return True


def _shall_print(b: bytes | None) -> bool:
    return b is not None and len(b) < PRINT_CHAR_THRESHOLD and _printable(b)


_CSI = re.compile(rb"\x1b\[[0-9;]*m")


def _strip_tab_ansi(b: bytes) -> bytes:
    if b"\x1b" in b:
        b = _CSI.sub(b"", b)
        if b"\x1b" in b:
            raise Unsupported("journal message with unusual escape sequences")
    return b.replace(b"\t", b" " * 8)


def _format_bytes(n: int) -> str:
    """systemd's ``format_bytes`` (IEC, one decimal)."""
    table = [("E", 1024**6), ("P", 1024**5), ("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024)]
    for i, (suffix, factor) in enumerate(table):
        if n >= factor:
            last = i == len(table) - 1
            frac = (n * 10 // factor) % 10 if last else (n // table[i + 1][1] * 10 // table[-1][1]) % 10
            return f"{n // factor}.{frac}{suffix}"
    return f"{n}B"


def _env(ctx: Ctx, name: str) -> str | None:
    """An environment variable journalctl would see: the shell's export, else the audit process's."""
    env = ctx.environ()
    return env[name] if name in env else ctx.host.getenv(name)


def _zone(ctx: Ctx) -> _dt.tzinfo:
    """The local time zone of journalctl on the node: ``$TZ`` (a zone name), else ``/etc/localtime``."""
    tz = _env(ctx, "TZ")
    if tz is None:
        path = "/etc/localtime"
    elif tz in ("", ":") or tz.lstrip(":") in ("UTC", "UTC0", "GMT", "GMT0", "Etc/UTC"):
        return _dt.UTC
    else:
        name = tz.lstrip(":")
        if name.startswith("/"):
            path = name
        elif re.fullmatch(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*", name):
            path = "/usr/share/zoneinfo/" + name
        else:
            raise Unsupported(f"journalctl with TZ={tz}")
    try:
        data = ctx.host.read(path)
    except FileNotFoundError:
        if tz is None:
            return _dt.UTC  # glibc without /etc/localtime
        raise Unsupported(f"journalctl with TZ={tz} (no zone file)") from None
    except OSError as exc:
        raise Unsupported(f"journalctl: cannot read {path}: {exc.strerror}") from None
    try:
        return zoneinfo.ZoneInfo.from_file(io.BytesIO(data))
    except (ValueError, OSError):
        raise Unsupported(f"journalctl: unreadable time zone file {path}") from None


def _check_locale(ctx: Ctx) -> None:
    """Month names are the C locale's; a node in another language would print its own."""
    for name in ("LC_ALL", "LC_TIME", "LANG"):
        v = _env(ctx, name)
        if v:
            if v not in ("C", "POSIX") and not v.startswith(("C.", "en_", "en.")):
                raise Unsupported(f"journalctl with {name}={v}")
            return


def _timestamp(e: JournalEntry, zone: _dt.tzinfo) -> str:
    usec = e.realtime
    src = e.get("_SOURCE_REALTIME_TIMESTAMP")
    if src is not None and src.isdigit():
        v = int(src)
        if 0 < v < (1 << 55):
            usec = v
    try:
        tm = _dt.datetime.fromtimestamp(usec // 1_000_000, zone)
    except (OverflowError, OSError, ValueError):
        raise Unsupported("journalctl: timestamp out of range") from None
    return f"{_MONTHS[tm.month - 1]} {tm.day:02d} {tm.hour:02d}:{tm.minute:02d}:{tm.second:02d}"


def _short(e: JournalEntry, zone: _dt.tzinfo) -> bytes | None:
    message = e.get("MESSAGE")
    if message is None:
        return None
    message = _strip_tab_ansi(message)
    out = bytearray(_timestamp(e, zone).encode())
    n = len(out)
    hostname = e.get("_HOSTNAME")
    if hostname is not None and _shall_print(hostname):
        out += b" " + hostname
        n += len(hostname) + 1
    identifier, comm = e.get("SYSLOG_IDENTIFIER"), e.get("_COMM")
    if identifier is not None and _shall_print(identifier):
        out += b" " + identifier
        n += len(identifier) + 1
    elif comm is not None and _shall_print(comm):
        out += b" " + comm
        n += len(comm) + 1
    else:
        out += b" unknown"
    pid, fake_pid = e.get("_PID"), e.get("SYSLOG_PID")
    if pid is not None and _shall_print(pid):
        out += b"[" + pid + b"]"
        n += len(pid) + 2
    elif fake_pid is not None and _shall_print(fake_pid):
        out += b"[" + fake_pid + b"]"
        n += len(fake_pid) + 2
    if not _printable(message):
        out += f": [{_format_bytes(len(message))} blob data]\n".encode()
        return bytes(out)
    out += b": "
    prefix = b" " * (n + 2)
    if not message:
        return bytes(out + b"\n")
    for k, line in enumerate(message.split(b"\n")[: -1 if message.endswith(b"\n") else None]):
        out += (prefix if k else b"") + line + b"\n"
    return bytes(out)


def _cat(e: JournalEntry, zone: _dt.tzinfo) -> bytes | None:
    message = e.get("MESSAGE")
    return None if message is None else message + b"\n"


def u_journalctl(ctx: Ctx, args: list[str]) -> int:
    units, merge, directory, quiet, output = _parse(args)
    if output == "cat":
        quiet = True  # journalctl 252: no "-- No entries --", boot separators or notices with -o cat
    q = JournalQuery(
        directory=ctx.path(directory) if directory is not None else None,
        local_only=not merge and directory is None,
        units=tuple(units),
    )
    try:
        res = query(ctx.host, q)
    except JournalUnsupported as exc:
        raise Unsupported(f"journalctl: {exc}") from None
    except OSError as exc:
        if directory is None:
            raise
        ctx.err.write(f"Failed to open {directory}: {exc.strerror}\n".encode())
        return 1
    for m in res.messages:
        if directory is not None and q.directory is not None and directory != q.directory:
            m = m.replace(q.directory.rstrip("/") + "/", directory.rstrip("/") + "/", 1)
        ctx.err.write(m.encode("utf-8", "surrogateescape") + b"\n")
    if not res.messages and res.files == 0 and not quiet:
        ctx.err.write(b"No journal files were found.\n")
    fmt: Callable[[JournalEntry, _dt.tzinfo], bytes | None] = _short if output == "short" else _cat
    zone: _dt.tzinfo = _dt.UTC
    if output == "short" and res.entries:
        _check_locale(ctx)
        zone = _zone(ctx)
    shown = 0
    prev_boot: str | None = None
    for e in res.entries:
        if not merge and not quiet:
            if prev_boot is not None and e.boot_id != prev_boot:
                ctx.write(f"-- Boot {e.boot_id} --\n")
            prev_boot = e.boot_id
        line = fmt(e, zone)
        if line is not None:
            ctx.write(line)
        shown += 1
    if shown == 0 and not quiet:
        ctx.write("-- No entries --\n")
    return 0

"""A pure-Python reader of systemd journal files, over a Host (so ``--root`` and snapshots work).

Why hand-written: libsystemd's reader (python-systemd) opens files by path on this machine; journals must be
read through the Host (a ``--root`` contained by descriptors, a snapshot that holds recorded answers), with
journalctl 252's exact merge and messages. Decompression is the libraries' (lzma, lz4, zstd).

:func:`query` answers what ``journalctl`` needs: the journal files it would open
(``/run/log/journal`` and ``/var/log/journal``, or one ``-D`` directory), the
entries matching ``-u UNIT`` matches, merged across files and deduplicated the way
sd-journal does (same seqnum source → seqnum, same boot → monotonic time, else
realtime, then the XOR hash), and the per-file messages journalctl prints on
stderr (``Journal file X is truncated, ignoring file.``).

Only entries that can possibly match are decoded: the data objects of the unit
match fields are found through the field hash table and their entry lists are
followed, as sd-journal does, so large journals stay cheap.

Hosts may implement ``journal(query) -> JournalResult`` themselves (snapshots do:
they record the result, with secrets redacted, instead of the journal files);
otherwise the files are read through the host: memory-mapped when the host is a
directory tree (live machine or ``--root``), else with ``host.read``.

Anything this reader does not understand raises :class:`JournalUnsupported`, never
a wrong answer: unknown incompatible header flags, corrupt compressed data. XZ is decoded by the standard
library's ``lzma``, LZ4 by ``lz4`` and ZSTD by ``compression.zstd`` (``backports.zstd`` before Python 3.14),
each imported only when a journal file holds such data; sealed (FSS) files are fine (tags are skipped).
"""

from __future__ import annotations

import lzma
import mmap
import os
import posixpath
import re
import struct
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kubecis.errors import HostError
from kubecis.host.base import Host

__all__ = [
    "JournalEntry",
    "JournalQuery",
    "JournalResult",
    "JournalUnsupported",
    "query",
    "read_journal",
    "unit_match",
]

SIGNATURE = b"LPKSHHRH"
HEADER_MIN = 208  # up to and including tail_entry_monotonic... n_data starts at 208

INCOMPAT_XZ = 1
INCOMPAT_LZ4 = 2
INCOMPAT_KEYED_HASH = 4
INCOMPAT_ZSTD = 8
INCOMPAT_COMPACT = 16
INCOMPAT_KNOWN = INCOMPAT_XZ | INCOMPAT_LZ4 | INCOMPAT_KEYED_HASH | INCOMPAT_ZSTD | INCOMPAT_COMPACT

OBJ_DATA = 1
OBJ_FIELD = 2
OBJ_ENTRY = 3
OBJ_ENTRY_ARRAY = 6

OBJ_COMPRESSED_XZ = 1
OBJ_COMPRESSED_LZ4 = 2
OBJ_COMPRESSED_ZSTD = 4

MAX_DECOMPRESSED = 64 * 1024 * 1024
MACHINE_ID = re.compile(r"[0-9a-f]{32}")


class JournalUnsupported(HostError):
    """The journal uses something this reader cannot decode faithfully."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    fields: tuple[tuple[str, bytes], ...]  # in the file's item order
    realtime: int
    monotonic: int
    boot_id: str
    seqnum: int
    seqnum_id: str
    xor_hash: int

    def get(self, name: str) -> bytes | None:
        """The value journalctl's short output uses for a field (the last one wins)."""
        out = None
        for k, v in self.fields:
            if k == name:
                out = v
        return out


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """What journalctl was asked: ``directory`` (``-D``) or the default locations, and unit matches."""

    directory: str | None = None
    local_only: bool = True  # without -m only this machine's journal directory is read
    units: tuple[str, ...] = ()  # full unit names (k3s.service); empty = every entry


@dataclass(frozen=True, slots=True)
class JournalResult:
    files: int  # journal files opened
    messages: tuple[str, ...] = ()  # what journalctl prints on stderr while opening files
    entries: tuple[JournalEntry, ...] = field(default=())


# ---------------------------------------------------------------------------------------------- matches

_COREDUMP_MID = b"fc2e22bc6ee647b6b90729ab34a250b1"


def unit_match(units: tuple[str, ...]) -> list[list[tuple[str, bytes]]]:
    """journalctl's ``add_matches_for_unit`` for each unit, as a disjunction of conjunctions."""
    terms: list[list[tuple[str, bytes]]] = []
    for u in units:
        b = u.encode("utf-8", "surrogateescape")
        terms.append([("_SYSTEMD_UNIT", b)])
        terms.append([("MESSAGE_ID", _COREDUMP_MID), ("_UID", b"0"), ("COREDUMP_UNIT", b)])
        terms.append([("_PID", b"1"), ("UNIT", b)])
        terms.append([("_UID", b"0"), ("OBJECT_SYSTEMD_UNIT", b)])
    return terms


def _matches(terms: list[list[tuple[str, bytes]]], fields: tuple[tuple[str, bytes], ...]) -> bool:
    if not terms:
        return True
    have = set(fields)
    # sd-journal: matches on the same field are ORed, different fields ANDed; every conjunction
    # here has distinct fields, so this is plain AND.
    return any(all((k, v) in have for k, v in conj) for conj in terms)


# ---------------------------------------------------------------------------------------------- decoding


def _zstd_module() -> Any:
    """The standard library's ``compression.zstd`` (Python 3.14+), else its backport (``backports.zstd``)."""
    try:
        from compression import zstd  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef, import-not-found, unused-ignore]
    return zstd


def _zstd(data: bytes) -> bytes:
    """Every frame in ``data`` (libzstd: checksums verified), at most ``MAX_DECOMPRESSED`` bytes."""
    zstd = _zstd_module()
    out = bytearray()
    rest = data
    try:
        while rest:
            d = zstd.ZstdDecompressor()
            out += d.decompress(rest, max_length=MAX_DECOMPRESSED + 1 - len(out))
            if len(out) > MAX_DECOMPRESSED:
                raise JournalUnsupported("oversized ZSTD data")
            if not d.eof:
                raise JournalUnsupported("ZSTD journal data this reader cannot decode (truncated frame)")
            rest = d.unused_data
    except zstd.ZstdError as exc:
        raise JournalUnsupported(f"ZSTD journal data this reader cannot decode ({exc})") from None
    return bytes(out)


def _lz4(block: bytes, size: int) -> bytes:
    """One LZ4 block of exactly ``size`` bytes (journald stores the size before the block)."""
    import lz4.block

    try:
        out: bytes = lz4.block.decompress(block, uncompressed_size=size)
    except (lz4.block.LZ4BlockError, ValueError):
        raise JournalUnsupported("corrupt LZ4 data") from None
    if len(out) != size:
        raise JournalUnsupported("corrupt LZ4 data")
    return out


def _decompress(flags: int, data: bytes) -> bytes:
    if flags & OBJ_COMPRESSED_XZ:
        try:
            return lzma.LZMADecompressor().decompress(data, MAX_DECOMPRESSED)
        except lzma.LZMAError as exc:
            raise JournalUnsupported(f"corrupt XZ journal data ({exc})") from None
    if flags & OBJ_COMPRESSED_LZ4:
        if len(data) < 8:
            raise JournalUnsupported("corrupt LZ4 data")
        (size,) = struct.unpack_from("<Q", data, 0)
        if size > MAX_DECOMPRESSED:
            raise JournalUnsupported("oversized LZ4 data")
        return _lz4(data[8:], size)
    if flags & OBJ_COMPRESSED_ZSTD:
        return _zstd(data)
    return data


class _Truncated(Exception):
    pass


class _File:
    """One journal file: header plus the objects reachable from it (bounds-checked)."""

    def __init__(self, buf: Any, path: str) -> None:
        self.buf = buf
        self.path = path
        size = len(buf)
        if size < HEADER_MIN or bytes(buf[0:8]) != SIGNATURE:
            if size < HEADER_MIN:
                raise _Truncated()
            raise JournalUnsupported(f"{path}: not a journal file")
        (self.compat, self.incompat, self.state) = struct.unpack_from("<IIB", buf, 8)
        if self.incompat & ~INCOMPAT_KNOWN:
            raise JournalUnsupported(f"{path}: journal file uses unsupported features")
        self.compact = bool(self.incompat & INCOMPAT_COMPACT)
        self.seqnum_id = bytes(buf[72:88]).hex()
        (self.header_size, self.arena_size, _dht_off, _dht_size, self.fht_off, self.fht_size,
         self.tail_object, _n_objects, self.n_entries, _tail_seq, _head_seq, self.entry_array) = struct.unpack_from(
            "<12Q", buf, 88
        )
        if self.header_size < HEADER_MIN or self.header_size + self.arena_size > size:
            raise _Truncated()
        self.end = self.header_size + self.arena_size
        self._data_cache: dict[int, tuple[str, bytes] | None] = {}

    # objects -----------------------------------------------------------------------------------
    def _obj(self, off: int, want: int) -> tuple[int, int] | None:
        """(flags, size) of the object at ``off`` if it is a consistent object of type ``want``."""
        if off < self.header_size or off % 8 or off + 16 > self.end:
            return None
        typ, flags, size = struct.unpack_from("<BB6xQ", self.buf, off)
        if typ != want or size < 16 or off + size > self.end:
            return None
        return flags, size

    def _array_items(self, off: int, limit: int) -> list[int]:
        """Entry offsets from an entry array chain, at most ``limit`` (0 items end the list)."""
        out: list[int] = []
        seen = 0
        while off and len(out) < limit and seen < 1_000_000:
            seen += 1
            h = self._obj(off, OBJ_ENTRY_ARRAY)
            if h is None:
                break
            _, size = h
            (nxt,) = struct.unpack_from("<Q", self.buf, off + 16)
            width = 4 if self.compact else 8
            n = (size - 24) // width
            items = struct.unpack_from(f"<{n}{'I' if self.compact else 'Q'}", self.buf, off + 24)
            for it in items:
                if it == 0 or len(out) >= limit:
                    return out
                out.append(it)
            off = nxt
        return out

    def _data(self, off: int) -> tuple[str, bytes] | None:
        if off in self._data_cache:
            return self._data_cache[off]
        res: tuple[str, bytes] | None = None
        h = self._obj(off, OBJ_DATA)
        if h is not None:
            flags, size = h
            start = off + (72 if self.compact else 64)
            if start <= off + size:
                payload = _decompress(flags, bytes(self.buf[start : off + size]))
                name, eq, value = payload.partition(b"=")
                if eq:
                    res = (name.decode("utf-8", "surrogateescape"), value)
        self._data_cache[off] = res
        return res

    def entry(self, off: int) -> JournalEntry | None:
        h = self._obj(off, OBJ_ENTRY)
        if h is None:
            return None
        _, size = h
        seqnum, realtime, monotonic = struct.unpack_from("<QQQ", self.buf, off + 16)
        boot_id = bytes(self.buf[off + 40 : off + 56]).hex()
        (xor_hash,) = struct.unpack_from("<Q", self.buf, off + 56)
        width = 4 if self.compact else 16
        n = (size - 64) // width
        if self.compact:
            items = struct.unpack_from(f"<{n}I", self.buf, off + 64)
        else:
            items = struct.unpack_from(f"<{2 * n}Q", self.buf, off + 64)[::2]
        fields: list[tuple[str, bytes]] = []
        for it in items:
            d = self._data(it)
            if d is None:
                return None  # not (yet) consistent: an online file being written
            fields.append(d)
        return JournalEntry(tuple(fields), realtime, monotonic, boot_id, seqnum, self.seqnum_id, xor_hash)

    # lookups -----------------------------------------------------------------------------------
    def all_entry_offsets(self) -> list[int]:
        return self._array_items(self.entry_array, self.n_entries)

    def _field_data_offsets(self, name: bytes) -> list[int] | None:
        """Offsets of every data object of field ``name`` (None if the field table is unusable)."""
        if not self.fht_off or self.fht_size % 16 or self.fht_off + self.fht_size > self.end:
            return None
        buckets = struct.unpack_from(f"<{self.fht_size // 8}Q", self.buf, self.fht_off)
        for head in buckets[::2]:
            off, hops = head, 0
            while off and hops < 10_000:
                hops += 1
                h = self._obj(off, OBJ_FIELD)
                if h is None:
                    return None
                _, size = h
                nxt_hash, head_data = struct.unpack_from("<QQ", self.buf, off + 24)
                if bytes(self.buf[off + 40 : off + size]) == name:
                    out: list[int] = []
                    d, n = head_data, 0
                    while d and n < 10_000_000:
                        n += 1
                        if self._obj(d, OBJ_DATA) is None:
                            break
                        out.append(d)
                        (d,) = struct.unpack_from("<Q", self.buf, d + 32)
                    return out
                off = nxt_hash
        return []

    def _data_entries(self, off: int) -> list[int]:
        entry_offset, entry_array, n_entries = struct.unpack_from("<QQQ", self.buf, off + 40)
        if not entry_offset or not n_entries:
            return []
        return [entry_offset, *self._array_items(entry_array, n_entries - 1)]

    def candidate_offsets(self, terms: list[list[tuple[str, bytes]]]) -> list[int]:
        """Entries that may match (every conjunction has one field looked up), in file order."""
        if not terms:
            return self.all_entry_offsets()
        want: dict[str, set[bytes]] = {}
        for conj in terms:
            k, v = conj[-1]
            want.setdefault(k, set()).add(v)
        found: set[int] = set()
        for name, values in want.items():
            offs = self._field_data_offsets(name.encode())
            if offs is None:
                return self.all_entry_offsets()
            for d in offs:
                got = self._data(d)
                if got is not None and got[1] in values:
                    found.update(self._data_entries(d))
        valid = set(self.all_entry_offsets())
        return sorted(found & valid)


# ---------------------------------------------------------------------------------------------- files


def _cmp_entries(a: JournalEntry, b: JournalEntry) -> int:
    """sd-journal's ``journal_file_compare_locations``."""
    if a.seqnum_id == b.seqnum_id and a.seqnum != b.seqnum:
        return -1 if a.seqnum < b.seqnum else 1
    if a.boot_id == b.boot_id and a.monotonic != b.monotonic:
        return -1 if a.monotonic < b.monotonic else 1
    if a.realtime != b.realtime:
        return -1 if a.realtime < b.realtime else 1
    if a.xor_hash != b.xor_hash:
        return -1 if a.xor_hash < b.xor_hash else 1
    return 0


def _merge(streams: list[list[JournalEntry]]) -> list[JournalEntry]:
    """sd-journal's merge: the smallest next entry of all files, skipping anything not beyond the last."""
    pos = [0] * len(streams)
    out: list[JournalEntry] = []
    last: JournalEntry | None = None
    while True:
        best: int | None = None
        for i, s in enumerate(streams):
            while pos[i] < len(s) and last is not None and _cmp_entries(s[pos[i]], last) <= 0:
                pos[i] += 1
            if pos[i] < len(s) and (best is None or _cmp_entries(s[pos[i]], streams[best][pos[best]]) < 0):
                best = i
        if best is None:
            return out
        last = streams[best][pos[best]]
        pos[best] += 1
        out.append(last)


def _is_journal(name: str) -> bool:
    return name.endswith(".journal") or name.endswith(".journal~")


def _open(host: Host, path: str) -> Any:
    from kubecis.host._fs import FSHost

    if isinstance(host, FSHost):
        fd = host.open_read(path)  # --root: opened under the root like every other read
        try:
            if os.fstat(fd).st_size == 0:
                return b""
            return mmap.mmap(fd, 0, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
    return host.read(path)


def _list_files(host: Host, q: JournalQuery) -> list[str]:
    """Journal files journalctl opens, in directory order (sd-journal's add_root_directory)."""
    roots = [q.directory] if q.directory is not None else ["/run/log/journal", "/var/log/journal"]
    machine: str | None = None
    if q.local_only and q.directory is None:
        # sd-journal: without a valid machine id no machine directory is "local"
        try:
            machine = host.read("/etc/machine-id").decode("ascii", "replace").strip().lower()
        except OSError:
            machine = ""
        if not MACHINE_ID.fullmatch(machine):
            machine = "-"
    out: list[str] = []
    for root in roots:
        try:
            names = sorted(host.listdir(root))
        except FileNotFoundError:
            if q.directory is not None:
                raise
            continue
        except NotADirectoryError:
            if q.directory is not None:
                raise
            continue
        for n in names:
            p = posixpath.join(root, n)
            if _is_journal(n):
                out.append(p)
            elif MACHINE_ID.fullmatch(n) and (machine is None or n == machine):
                try:
                    sub = sorted(host.listdir(p))
                except (FileNotFoundError, NotADirectoryError):
                    continue
                out.extend(posixpath.join(p, s) for s in sub if _is_journal(s))
    return out


def read_journal(host: Host, q: JournalQuery) -> JournalResult:
    """Read the journal through ``host``'s files. Raises OSError (``-D`` directory) or JournalUnsupported."""
    terms = unit_match(q.units)
    streams: list[list[JournalEntry]] = []
    messages: list[str] = []
    files = 0
    for path in _list_files(host, q):
        try:
            st = host.stat(path)
        except FileNotFoundError:
            continue
        if (st.mode & 0o170000) != 0o100000:
            continue
        try:
            buf = _open(host, path)
        except PermissionError:
            raise JournalUnsupported(f"{path}: permission denied") from None
        try:
            jf = _File(buf, path)
        except _Truncated:
            messages.append(f"Journal file {path} is truncated, ignoring file.")
            continue
        files += 1
        entries: list[JournalEntry] = []
        try:
            for off in jf.candidate_offsets(terms):
                e = jf.entry(off)
                if e is None:
                    break  # the rest of an online file is not consistent yet
                if _matches(terms, e.fields):
                    entries.append(e)
        except (struct.error, IndexError, ValueError, OverflowError, MemoryError) as exc:
            raise JournalUnsupported(f"{path}: corrupt journal file ({type(exc).__name__})") from None
        streams.append(entries)
        jf.buf = None
    return JournalResult(files, tuple(messages), tuple(_merge(streams)))


_CACHE: weakref.WeakKeyDictionary[Any, dict[JournalQuery, JournalResult]] = weakref.WeakKeyDictionary()


@runtime_checkable
class RecordedJournal(Protocol):
    """A host that answers journal queries itself (a snapshot: the recorded, redacted results) instead of
    having journal files to read."""

    def journal(self, q: JournalQuery) -> JournalResult: ...


def query(host: Host, q: JournalQuery) -> JournalResult:
    """The journal as ``host`` sees it: its own answers (:class:`RecordedJournal`), else its files (cached
    per host)."""
    if isinstance(host, RecordedJournal):
        return host.journal(q)
    try:
        cache = _CACHE.setdefault(host, {})
    except TypeError:  # not weak-referenceable
        return read_journal(host, q)
    if q not in cache:
        cache[q] = read_journal(host, q)
    return cache[q]


# ---------------------------------------------------------------------------------------------- JSON (snapshots)


def result_to_json(r: JournalResult, redact: Callable[[bytes], bytes]) -> dict[str, Any]:
    """A result for a snapshot; every field value goes through ``redact`` (MESSAGE, _CMDLINE, ...)."""
    import base64

    return {
        "files": r.files,
        "messages": [redact(m.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")
                     for m in r.messages],
        "entries": [
            [
                [[k, base64.b64encode(redact(v)).decode()] for k, v in e.fields],
                e.realtime, e.monotonic, e.boot_id, e.seqnum, e.seqnum_id, e.xor_hash,
            ]
            for e in r.entries
        ],
    }


def result_from_json(d: object) -> JournalResult:
    """The inverse of :func:`result_to_json`; ValueError names what is malformed (snapshots are data)."""
    import base64
    import binascii

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(what)

    def is_int(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 64

    need(isinstance(d, dict), "journal result is not an object")
    assert isinstance(d, dict)
    files, messages, raw_entries = d.get("files", 0), d.get("messages", []), d.get("entries", [])
    need(is_int(files), "journal files is not an integer")
    need(isinstance(messages, list) and all(isinstance(m, str) for m in messages), "journal messages")
    need(isinstance(raw_entries, list), "journal entries is not a list")
    entries = []
    for e in raw_entries:
        need(isinstance(e, list) and len(e) == 7, "journal entry is not a 7-element list")
        f, rt, mono, boot, seq, seqid, xh = e
        need(all(is_int(x) for x in (rt, mono, seq, xh)) and isinstance(boot, str) and isinstance(seqid, str),
             "journal entry header")
        need(isinstance(f, list) and all(isinstance(x, list) and len(x) == 2 and isinstance(x[0], str)
                                         and isinstance(x[1], str) for x in f), "journal entry fields")
        try:
            fields = tuple((k, base64.b64decode(v, validate=True)) for k, v in f)
        except (binascii.Error, ValueError):
            raise ValueError("journal field value is not base64") from None
        entries.append(JournalEntry(fields, rt, mono, boot, seq, seqid, xh))
    return JournalResult(files, tuple(messages), tuple(entries))

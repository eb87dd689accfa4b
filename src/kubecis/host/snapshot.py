"""Record a host's answers once, replay them anywhere.

``RecordingHost(inner)`` forwards every query and remembers query → result
(including the kind of OSError). ``save(path)`` writes a gzip-compressed JSON
document::

    {"format": "kubecis-snapshot", "version": 1, "host": NAME, "entries": [...]}

``SnapshotHost.load(path)`` replays it. A query that was never recorded raises
:class:`~kubecis.host.base.NotInSnapshot` (the native executor turns that into a
WARN ``not in snapshot: <path>``), never a fake "no such file".

Redaction: secrets never reach the file (the rules are in :mod:`kubecis.host.redact`
and docs/snapshots.md). Process command lines go through ``redact_argv``, process and
audit environments through the environment-name rule, file contents through the
structural YAML/JSON and text rules, journal fields through the text rules.

Loading treats the file as untrusted data: only a regular file is opened (a FIFO or
device never blocks the run), decompression is streamed and capped, JSON nesting and
size are bounded, and every entry is type-checked before it is used, so a bad file is
one :class:`~kubecis.errors.HostError` line naming the entry.
"""

from __future__ import annotations

import base64
import binascii
import errno
import gzip
import json
import os
import re
import stat as _stat
import zlib
from collections.abc import Callable
from typing import Any

from kubecis.errors import HostError
from kubecis.host.base import FileStat, Host, NotInSnapshot, Process
from kubecis.host.journal import JournalQuery, JournalResult, JournalUnsupported
from kubecis.host.redact import (
    MARKER,
    redact_argv,
    redact_env_value,
    redact_environ,
    redact_file,
    redact_text_bytes,
)

__all__ = ["FORMAT", "MARKER", "VERSION", "RecordingHost", "SnapshotHost", "redact"]

FORMAT = "kubecis-snapshot"
VERSION = 1
# bounds on what a snapshot may make us hold: decompressed bytes (KUBECIS_SNAPSHOT_MAX_MB raises it) and
# JSON elements (a count of ",", "[" and "{"; ~10 per recorded query)
MAX_BYTES = 256 << 20
MAX_ELEMENTS = 8_000_000
_CHUNK = 1 << 20


def redact(data: bytes, path: str = "") -> bytes:
    """File content with secret material replaced by the marker (see :mod:`kubecis.host.redact`)."""
    return redact_file(data, path)


def _redact_cmdline(data: bytes) -> bytes:
    """A raw ``/proc/PID/cmdline`` (NUL-separated argv)."""
    trail = data.endswith(b"\0")
    argv = [a.decode("utf-8", "surrogateescape") for a in (data[:-1] if trail else data).split(b"\0")]
    out = b"\0".join(a.encode("utf-8", "surrogateescape") for a in redact_argv(argv))
    return out + b"\0" if trail else out


_ERRORS: dict[str, type[OSError]] = {
    "FileNotFoundError": FileNotFoundError,
    "PermissionError": PermissionError,
    "NotADirectoryError": NotADirectoryError,
    "IsADirectoryError": IsADirectoryError,
    "OSError": OSError,
}


def _err_to_json(exc: OSError) -> dict[str, Any]:
    kind = type(exc).__name__ if type(exc).__name__ in _ERRORS else "OSError"
    return {"error": kind, "errno": exc.errno if exc.errno is not None else errno.EIO}


def _key(*parts: object) -> str:
    return json.dumps(parts)


class RecordingHost:
    """Wraps a host and records every query and its result."""

    def __init__(self, inner: Host) -> None:
        self.inner = inner
        self.entries: dict[str, Any] = {}
        self._name = inner.name
        self._table: tuple[tuple[Process, ...], list[list[Any]]] | None = None

    @property
    def name(self) -> str:
        return self._name

    def _rec(self, key: str, fn: Any, encode: Any = None) -> Any:
        try:
            value = fn()
        except OSError as exc:
            self.entries[key] = _err_to_json(exc)
            raise
        self.entries[key] = {"ok": encode(value) if encode else value}
        return value

    def processes(self) -> list[Process]:
        return self._rec(_key("processes"), self.inner.processes, self._encode_processes)  # type: ignore[no-any-return]

    def _encode_processes(self, ps: list[Process]) -> list[list[Any]]:
        """The table with command lines redacted; once per distinct table (audits ask for it many times)."""
        table = tuple(ps)
        if self._table is None or self._table[0] != table:
            rows = [[p.pid, p.ppid, p.uid, p.comm, redact_argv(p.cmdline), p.tty, p.start, p.time, p.pcpu]
                    for p in ps]
            self._table = (table, rows)
        return self._table[1]

    def environ(self, pid: int) -> bytes:
        return self._rec(  # type: ignore[no-any-return]
            _key("environ", pid), lambda: self.inner.environ(pid),
            lambda b: base64.b64encode(redact_environ(b)).decode(),
        )

    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
        return self._rec(  # type: ignore[no-any-return]
            _key("stat", path, follow_symlinks), lambda: self.inner.stat(path, follow_symlinks),
            lambda s: [s.mode, s.uid, s.gid, s.size, s.nlink, s.mtime, s.ino, s.dev, s.blocks, s.atime, s.ctime],
        )

    def read(self, path: str) -> bytes:
        proc = re.fullmatch(r"/proc/(?:\d+|self)/(environ|cmdline)", path)

        def enc(b: bytes) -> bytes:
            if proc is None:
                return redact_file(b, path)
            return redact_environ(b) if proc.group(1) == "environ" else _redact_cmdline(b)

        return self._rec(  # type: ignore[no-any-return]
            _key("read", path), lambda: self.inner.read(path), lambda b: base64.b64encode(enc(b)).decode()
        )

    def listdir(self, path: str) -> list[str]:
        return self._rec(_key("listdir", path), lambda: self.inner.listdir(path))  # type: ignore[no-any-return]

    def readlink(self, path: str) -> str:
        return self._rec(_key("readlink", path), lambda: self.inner.readlink(path))  # type: ignore[no-any-return]

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except OSError:
            return False
        return True

    def user_name(self, uid: int) -> str | None:
        return self._rec(_key("user", uid), lambda: self.inner.user_name(uid))  # type: ignore[no-any-return]

    def group_name(self, gid: int) -> str | None:
        return self._rec(_key("group", gid), lambda: self.inner.group_name(gid))  # type: ignore[no-any-return]

    def getenv(self, name: str) -> str | None:
        return self._rec(  # type: ignore[no-any-return]
            _key("getenv", name), lambda: self.inner.getenv(name),
            lambda v: None if v is None else redact_env_value(name, v),
        )

    def journal(self, q: JournalQuery) -> JournalResult:
        from kubecis.host.journal import query, result_to_json

        key = _key("journal", q.directory, q.local_only, list(q.units))
        try:
            res = query(self.inner, q)
        except JournalUnsupported as exc:
            self.entries[key] = {"unsupported": str(exc)}
            raise
        except OSError as exc:
            self.entries[key] = _err_to_json(exc)
            raise
        self.entries[key] = {"ok": result_to_json(res, redact_text_bytes)}
        return res

    def document(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "host": self._name,
                "entries": [[k, v] for k, v in self.entries.items()]}

    def save(self, path: str) -> None:
        data = json.dumps(self.document(), separators=(",", ":")).encode()
        try:
            with gzip.open(path, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise HostError(f"cannot write snapshot {path}: {exc.strerror}") from None


# ------------------------------------------------------------------------------------------------ loading


def show(s: str, limit: int = 100) -> str:
    """A string from a snapshot (or its file name) fit for a one-line message: printable ASCII, bounded."""
    text = s if s.isascii() and s.isprintable() else json.dumps(s)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def max_bytes() -> int:
    """The decompressed size limit: :data:`MAX_BYTES` or ``KUBECIS_SNAPSHOT_MAX_MB`` (a positive integer)."""
    raw = os.environ.get("KUBECIS_SNAPSHOT_MAX_MB", "").strip()
    if not raw:
        return MAX_BYTES
    if not raw.isdigit() or not 0 < int(raw) <= 1 << 20:
        raise HostError(f"KUBECIS_SNAPSHOT_MAX_MB={show(raw, 40)}: expected a number of MiB from 1 to 1048576")
    return int(raw) << 20


_KINDS = ((_stat.S_ISFIFO, "a FIFO"), (_stat.S_ISCHR, "a character device"), (_stat.S_ISBLK, "a block device"),
          (_stat.S_ISSOCK, "a socket"), (_stat.S_ISDIR, "a directory"))


def _not_regular(mode: int) -> str | None:
    if _stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def read_snapshot_file(path: str, limit: int) -> bytes:
    """The decompressed bytes of a regular gzip file, read in chunks and refused beyond ``limit``."""
    where = show(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise HostError(f"{where}: snapshot not found") from None
    except OSError as exc:
        raise HostError(f"{where}: cannot read snapshot: {exc.strerror}") from None
    kind = _not_regular(st.st_mode)
    if kind is not None:
        raise HostError(f"{where}: is {kind}, expected a snapshot file")
    try:  # O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening it does not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise HostError(f"{where}: cannot read snapshot: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as raw:
        kind = _not_regular(os.fstat(fd).st_mode)
        if kind is not None:
            raise HostError(f"{where}: is {kind}, expected a snapshot file")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []  # (a list, not a growing buffer: no reallocation doubles the peak)
        total = 0
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                while chunk := f.read(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise HostError(f"{where}: snapshot is larger than {limit >> 20} MiB uncompressed "
                                        "(KUBECIS_SNAPSHOT_MAX_MB raises the limit)")
                    chunks.append(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            raise HostError(f"{where}: not a readable gzip snapshot ({show(str(exc), 80)})") from None
    return b"".join(chunks)


def _is_int(v: object, hi: int = 1 << 64) -> bool:
    """A JSON integer (not a boolean) in [0, hi): ids, sizes, modes, counts."""
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < hi


def _is_id(v: object) -> bool:
    return _is_int(v, 1 << 32)


def _is_time(v: object) -> bool:
    """A timestamp: a finite number within ±2**40 seconds (JSON decoding accepts NaN and Infinity)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and -(1 << 40) < v < (1 << 40)


def _is_str_list(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


class _Corrupt(Exception):
    """What is wrong with one entry (turned into a HostError naming the entry)."""


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise _Corrupt(what)


def _b64(v: object, what: str = "content") -> bytes:
    _need(isinstance(v, str), f"{what} is not a base64 string")
    assert isinstance(v, str)
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise _Corrupt(f"{what} is not valid base64") from None


def _is_str(v: object) -> bool:
    return isinstance(v, str)


_PROC_TYPES = (_is_id, _is_id, _is_id, _is_str, _is_str_list, _is_str, _is_str, _is_str, _is_id)
# mode uid gid size nlink mtime ino dev blocks atime ctime
_STAT_TYPES = (_is_id, _is_id, _is_id, _is_int, _is_int, _is_time, _is_int, _is_int, _is_int, _is_time, _is_time)


def _processes(v: object) -> list[Process]:
    _need(isinstance(v, list), "process list is not a list")
    assert isinstance(v, list)
    out = []
    for row in v:
        _need(isinstance(row, list) and len(row) == len(_PROC_TYPES), "process row is not a 9-element list")
        _need(all(t(x) for t, x in zip(_PROC_TYPES, row, strict=True)), "process row has a field of the wrong type")
        out.append(Process(row[0], row[1], row[2], row[3], tuple(row[4]), row[5], row[6], row[7], row[8]))
    return out


def _filestat(v: object) -> FileStat:
    _need(isinstance(v, list) and 4 <= len(v) <= len(_STAT_TYPES), "stat is not a list of 4 to 11 numbers")
    assert isinstance(v, list)
    _need(all(t(x) for t, x in zip(_STAT_TYPES, v, strict=False)), "stat has a field of the wrong type")
    return FileStat(*v)


def _listing(v: object) -> list[str]:
    _need(isinstance(v, list) and _is_str_list(v), "listing is not a list of strings")
    assert isinstance(v, list)
    return [str(x) for x in v]


def _link(v: object) -> str:
    _need(isinstance(v, str), "link target is not a string")
    return str(v)


def _optional_str(v: object) -> str | None:
    _need(v is None or isinstance(v, str), "value is neither a string nor null")
    return None if v is None else str(v)


def _journal(v: object) -> JournalResult:
    from kubecis.host.journal import result_from_json

    try:
        return result_from_json(v)
    except ValueError as exc:
        raise _Corrupt(str(exc)) from None


def _no_args(a: list[Any]) -> bool:
    return a == []


def _one_int(a: list[Any]) -> bool:
    return len(a) == 1 and _is_id(a[0])


def _one_str(a: list[Any]) -> bool:
    return len(a) == 1 and isinstance(a[0], str)


def _stat_args(a: list[Any]) -> bool:
    return len(a) == 2 and isinstance(a[0], str) and isinstance(a[1], bool)


def _journal_args(a: list[Any]) -> bool:
    return len(a) == 3 and (a[0] is None or isinstance(a[0], str)) and isinstance(a[1], bool) and _is_str_list(a[2])


# operation -> (check of the query's arguments, decoder of the "ok" answer)
_OPS: dict[str, tuple[Callable[[list[Any]], bool], Callable[[object], object]]] = {
    "processes": (_no_args, _processes),
    "environ": (_one_int, _b64),
    "stat": (_stat_args, _filestat),
    "read": (_one_str, _b64),
    "listdir": (_one_str, _listing),
    "readlink": (_one_str, _link),
    "user": (_one_int, _optional_str),
    "group": (_one_int, _optional_str),
    "getenv": (_one_str, _optional_str),
    "journal": (_journal_args, _journal),
}


def _check_api(args: list[Any], v: dict[str, Any]) -> None:
    """API answers stay raw (SnapshotCluster reads them) but are checked here once."""
    if args == ["namespace"]:
        _need(isinstance(v.get("ok"), str), "namespace is not a string")
        return
    _need(len(args) >= 2 and args[0] in ("GET", "POST") and isinstance(args[1], str), "unknown API request")
    if "refused" in v:
        _need(isinstance(v["refused"], str) and isinstance(v.get("url", ""), str), "refusal is not a string")
        return
    _need(_is_int(v.get("status"), 1000), "API status is not an HTTP status")
    _b64(v.get("body"), "API body")


# a decoded answer: ("ok", value) | ("error", OSError class, errno) | ("unsupported", message)
_Answer = tuple[Any, ...]


class SnapshotHost:
    """Replays a snapshot written by :class:`RecordingHost`."""

    def __init__(self, document: dict[str, Any], source: str = "snapshot") -> None:
        self._source = show(source)
        where = self._source
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise HostError(f"{where}: not a kubecis snapshot")
        version = document.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise HostError(f"{where}: snapshot has no valid format version")
        if version > VERSION:
            shown = str(version) if version < 10**12 else "beyond 10**12"
            raise HostError(f"{where}: snapshot format version {shown} is newer than supported ({VERSION})")
        host = document.get("host", source)
        if not isinstance(host, str):
            raise HostError(f"{where}: corrupt snapshot (host is not a string)")
        entries = document.get("entries")
        if not isinstance(entries, list):
            raise HostError(f"{where}: corrupt snapshot (bad entries)")
        self._answers: dict[str, _Answer] = {}
        self._entries: dict[str, Any] = {}  # the raw API answers, for SnapshotCluster
        for n, entry in enumerate(entries):
            try:
                self._load_entry(entry)
            except _Corrupt as exc:
                key = entry[0] if isinstance(entry, list) and entry and isinstance(entry[0], str) else None
                name = f"entry {n}" + (f" {show(key)}" if key is not None else "")
                raise HostError(f"{where}: corrupt snapshot {name}: {exc}") from None
        self._name = host
        procs = self._answers.get(_key("processes"))
        self._procs: list[Process] | None = procs[1] if procs is not None and procs[0] == "ok" else None
        rec = document.get("recorded")
        #: what the snapshot was recorded for ({"benchmark": ..., "targets": [...]}), or None
        self.recorded: dict[str, Any] | None = rec if isinstance(rec, dict) else None

    def _load_entry(self, entry: object) -> None:
        _need(isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str),
              "not a [query, answer] pair")
        assert isinstance(entry, list)
        key, v = entry
        try:
            parsed = json.loads(key)
        except (ValueError, RecursionError):
            raise _Corrupt("query is not JSON") from None
        _need(isinstance(parsed, list) and bool(parsed) and isinstance(parsed[0], str), "query is not [op, ...]")
        op, args = parsed[0], parsed[1:]
        _need(isinstance(v, dict), "answer is not an object")
        if op == "api":
            _check_api(args, v)
            self._entries[key] = v
            return
        spec = _OPS.get(op)
        _need(spec is not None, f"unknown query {show(op, 30)}")
        assert spec is not None
        _need(spec[0](args), "query arguments of the wrong type")
        if "ok" in v:
            self._answers[key] = ("ok", spec[1](v["ok"]))
        elif "error" in v:
            cls = _ERRORS.get(v["error"]) if isinstance(v["error"], str) else None
            code = v.get("errno", errno.EIO)
            _need(cls is not None, "error kind is not one of " + ", ".join(_ERRORS))
            _need(_is_int(code, 4096), "errno is not an error number")
            self._answers[key] = ("error", cls, code)
        elif "unsupported" in v and op == "journal":
            _need(isinstance(v["unsupported"], str), "reason is not a string")
            self._answers[key] = ("unsupported", v["unsupported"])
        else:
            raise _Corrupt("answer has neither ok nor error")

    @classmethod
    def load(cls, path: str) -> SnapshotHost:
        limit = max_bytes()
        raw = read_snapshot_file(path, limit)
        where = show(path)
        elements = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
        if elements > MAX_ELEMENTS:
            raise HostError(f"{where}: corrupt snapshot (more than {MAX_ELEMENTS} JSON elements)")
        try:
            doc = json.loads(raw)
        except RecursionError:
            raise HostError(f"{where}: corrupt snapshot (JSON nested too deeply)") from None
        except (ValueError, UnicodeDecodeError):
            raise HostError(f"{where}: corrupt snapshot (invalid JSON)") from None
        del raw
        return cls(doc, path)

    @property
    def name(self) -> str:
        return self._name

    def api_entries(self) -> dict[str, Any]:
        """The recorded cluster API answers (checked on load), keyed like :class:`~kubecis.host.cluster`."""
        return dict(self._entries)

    def _get(self, key: str, what: str) -> Any:
        a = self._answers.get(key)
        if a is None:
            raise NotInSnapshot(what)
        if a[0] == "error":
            return_code = a[2]
            raise a[1](return_code, os.strerror(return_code), what)
        if a[0] == "unsupported":
            raise JournalUnsupported(a[1])
        return a[1]

    def processes(self) -> list[Process]:
        if self._procs is None:
            self._procs = self._get(_key("processes"), "process list")
        return list(self._procs)

    def environ(self, pid: int) -> bytes:
        return self._get(_key("environ", pid), f"/proc/{pid}/environ")  # type: ignore[no-any-return]

    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
        return self._get(_key("stat", path, follow_symlinks), path)  # type: ignore[no-any-return]

    def read(self, path: str) -> bytes:
        return self._get(_key("read", path), path)  # type: ignore[no-any-return]

    def listdir(self, path: str) -> list[str]:
        return list(self._get(_key("listdir", path), path))

    def readlink(self, path: str) -> str:
        return self._get(_key("readlink", path), path)  # type: ignore[no-any-return]

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except OSError:
            return False
        return True

    def user_name(self, uid: int) -> str | None:
        return self._get(_key("user", uid), f"user {uid}")  # type: ignore[no-any-return]

    def group_name(self, gid: int) -> str | None:
        return self._get(_key("group", gid), f"group {gid}")  # type: ignore[no-any-return]

    def getenv(self, name: str) -> str | None:
        return self._get(_key("getenv", name), f"environment variable {name}")  # type: ignore[no-any-return]

    def journal(self, q: JournalQuery) -> JournalResult:
        key = _key("journal", q.directory, q.local_only, list(q.units))
        what = f"journal {q.directory or '(default)'} units={','.join(q.units) or '(all)'}"
        return self._get(key, what)  # type: ignore[no-any-return]

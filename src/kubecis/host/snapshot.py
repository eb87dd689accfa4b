"""Record a host's answers once, replay them anywhere.

``RecordingHost(inner)`` forwards every query and remembers query → result
(including the kind of OSError). ``save(path)`` writes a gzip-compressed JSON
document::

    {"format": "kubecis-snapshot", "version": 1, "host": NAME, "entries": [...]}

``SnapshotHost.load(path)`` replays it. A query that was never recorded raises
:class:`~kubecis.host.base.NotInSnapshot` (the native executor turns that into a
WARN ``not in snapshot: <path>``), never a fake "no such file".

Redaction: secrets never reach the file. In every recorded file content, PEM
private-key bodies and the values of ``client-key-data``, ``token``,
``password``, ``id-token``, ``refresh-token`` and ``secret`` keys are replaced
with ``REDACTED-BY-KUBECIS`` (the rest of the file is kept, so audits evaluate
the same); in recorded process environments, values of variables whose names
contain PASSWORD, TOKEN, SECRET or PRIVATE_KEY are replaced the same way.
Journal queries (``journalctl``) record the matching entries, not the journal files;
their MESSAGE values are redacted like file contents, plus the values of
``--*token``/``--*password``/``--*secret`` flags and passwords in URLs.
"""

from __future__ import annotations

import base64
import errno
import gzip
import json
import os
import re
import zlib
from typing import Any

from kubecis.errors import HostError
from kubecis.host.base import FileStat, Host, NotInSnapshot, Process
from kubecis.host.journal import JournalQuery, JournalResult, JournalUnsupported

FORMAT = "kubecis-snapshot"
VERSION = 1
MARKER = "REDACTED-BY-KUBECIS"

_PEM = re.compile(rb"(-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----).*?(-----END \2PRIVATE KEY-----)", re.DOTALL)
_KEYS = re.compile(
    rb"^(\s*(?:-\s+)?[\"']?(?:client-key-data|token|password|id-token|refresh-token|secret)[\"']?\s*:[ \t]*)"
    rb"(?![ \t]*$)([^\n]*)$",
    re.MULTILINE,
)
_ENV_SECRET = re.compile(rb"PASSWORD|TOKEN|SECRET|PRIVATE_KEY", re.IGNORECASE)


def redact(data: bytes) -> bytes:
    """File content with secret material replaced by the marker."""
    data = _PEM.sub(lambda m: m.group(1) + b"\n" + MARKER.encode() + b"\n" + m.group(3), data)
    return _KEYS.sub(lambda m: m.group(1) + MARKER.encode(), data)


def redact_environ(data: bytes) -> bytes:
    out = []
    for item in data.split(b"\0"):
        name, eq, _ = item.partition(b"=")
        out.append(name + b"=" + MARKER.encode() if eq and _ENV_SECRET.search(name) else item)
    return b"\0".join(out)


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


def _err_from_json(d: dict[str, Any], filename: str) -> OSError:
    cls = _ERRORS.get(str(d.get("error")), OSError)
    code = int(d.get("errno", errno.EIO))
    return cls(code, os.strerror(code), filename)


def _key(*parts: object) -> str:
    return json.dumps(parts)


class RecordingHost:
    """Wraps a host and records every query and its result."""

    def __init__(self, inner: Host) -> None:
        self.inner = inner
        self.entries: dict[str, Any] = {}
        self._name = inner.name

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
        return self._rec(  # type: ignore[no-any-return]
            _key("processes"),
            self.inner.processes,
            lambda ps: [
                [p.pid, p.ppid, p.uid, p.comm, list(p.cmdline), p.tty, p.start, p.time, p.pcpu] for p in ps
            ],
        )

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
        enc = redact_environ if re.fullmatch(r"/proc/\d+/environ", path) else redact
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
            lambda v: MARKER if v is not None and _ENV_SECRET.search(name.encode()) else v,
        )

    def journal(self, q: JournalQuery) -> JournalResult:
        from kubecis.host.journal import query, redact_message, result_to_json

        key = _key("journal", q.directory, q.local_only, list(q.units))
        try:
            res = query(self.inner, q)
        except JournalUnsupported as exc:
            self.entries[key] = {"unsupported": str(exc)}
            raise
        except OSError as exc:
            self.entries[key] = _err_to_json(exc)
            raise
        self.entries[key] = {"ok": result_to_json(res, lambda b: redact_message(redact(b), MARKER.encode()))}
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


class SnapshotHost:
    """Replays a snapshot written by :class:`RecordingHost`."""

    def __init__(self, document: dict[str, Any], source: str = "snapshot") -> None:
        self._source = source
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise HostError(f"{source}: not a kubecis snapshot")
        version = document.get("version")
        if not isinstance(version, int):
            raise HostError(f"{source}: snapshot has no valid format version")
        if version > VERSION:
            raise HostError(f"{source}: snapshot format version {version} is newer than supported ({VERSION})")
        entries = document.get("entries")
        if not isinstance(entries, list) or not all(isinstance(e, list) and len(e) == 2 for e in entries):
            raise HostError(f"{source}: corrupt snapshot (bad entries)")
        self._entries: dict[str, Any] = {str(k): v for k, v in entries}
        self._name = str(document.get("host", source))
        self._procs: list[Process] | None = None
        rec = document.get("recorded")
        #: what the snapshot was recorded for ({"benchmark": ..., "targets": [...]}), or None
        self.recorded: dict[str, Any] | None = rec if isinstance(rec, dict) else None

    @classmethod
    def load(cls, path: str) -> SnapshotHost:
        try:
            with gzip.open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise HostError(f"{path}: snapshot not found") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise HostError(f"{path}: not a readable gzip snapshot ({exc})") from None
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise HostError(f"{path}: corrupt snapshot (invalid JSON)") from None
        return cls(doc, path)

    @property
    def name(self) -> str:
        return self._name

    def _get(self, key: str, what: str) -> Any:
        if key not in self._entries:
            raise NotInSnapshot(what)
        v = self._entries[key]
        if not isinstance(v, dict):
            raise HostError(f"{self._source}: corrupt snapshot entry for {what}")
        if "error" in v:
            raise _err_from_json(v, what)
        return v.get("ok")

    def processes(self) -> list[Process]:
        if self._procs is None:  # decoded once: every `ps` of every replay reads it
            rows = self._get(_key("processes"), "process list") or []
            self._procs = [Process(r[0], r[1], r[2], r[3], tuple(r[4]), r[5], r[6], r[7], r[8]) for r in rows]
        return list(self._procs)

    def environ(self, pid: int) -> bytes:
        return base64.b64decode(self._get(_key("environ", pid), f"/proc/{pid}/environ"))

    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
        r = self._get(_key("stat", path, follow_symlinks), path)
        return FileStat(*r)

    def read(self, path: str) -> bytes:
        return base64.b64decode(self._get(_key("read", path), path))

    def listdir(self, path: str) -> list[str]:
        return list(self._get(_key("listdir", path), path))

    def readlink(self, path: str) -> str:
        return str(self._get(_key("readlink", path), path))

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except OSError:
            return False
        return True

    def user_name(self, uid: int) -> str | None:
        v = self._get(_key("user", uid), f"user {uid}")
        return None if v is None else str(v)

    def group_name(self, gid: int) -> str | None:
        v = self._get(_key("group", gid), f"group {gid}")
        return None if v is None else str(v)

    def getenv(self, name: str) -> str | None:
        v = self._get(_key("getenv", name), f"environment variable {name}")
        return None if v is None else str(v)

    def journal(self, q: JournalQuery) -> JournalResult:
        from kubecis.host.journal import result_from_json

        key = _key("journal", q.directory, q.local_only, list(q.units))
        what = f"journal {q.directory or '(default)'} units={','.join(q.units) or '(all)'}"
        v = self._entries.get(key)
        if isinstance(v, dict) and "unsupported" in v:
            raise JournalUnsupported(str(v["unsupported"]))
        try:
            return result_from_json(self._get(key, what))
        except (KeyError, TypeError, ValueError):
            raise HostError(f"{self._source}: corrupt snapshot entry for {what}") from None

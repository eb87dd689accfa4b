"""A snapshot's way back through the API: framed, length-checked and checksummed in the pod log.

The node agent (``kubecis snapshot record --output -``) writes::

    -----BEGIN KUBECIS SNAPSHOT-----
    kubecis-payload v1 bytes=<length of the gzip data> sha256=<hex digest of it>
    <base64 of the gzip snapshot, 76 characters a line>
    -----END KUBECIS SNAPSHOT-----

:func:`unframe` finds the frame in a whole pod log (other lines, e.g. the agent's summary on stderr, may
surround it) and returns the gzip bytes only when the length and the digest match; anything else raises
:class:`PayloadError` with a one-line reason (never half-parsed data). Standard library only: it runs on
every node.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from kubecis.errors import DataError

BEGIN = b"-----BEGIN KUBECIS SNAPSHOT-----"
END = b"-----END KUBECIS SNAPSHOT-----"
_HEADER = re.compile(rb"kubecis-payload v(\d+) bytes=(\d{1,12}) sha256=([0-9a-f]{64})")
VERSION = 1
LINE = 76
MAX_BYTES = 256 * 1024 * 1024  # a snapshot is a few hundred KiB; anything near this is not ours


class PayloadError(DataError, ValueError):
    """The log holds no complete, intact payload; ``str()`` says why."""


def frame(data: bytes) -> bytes:
    """The framed text (ending in a newline) for ``data`` (the gzip snapshot)."""
    b64 = base64.b64encode(data)
    lines = [b64[i:i + LINE] for i in range(0, len(b64), LINE)]
    header = b"kubecis-payload v%d bytes=%d sha256=%s" % (VERSION, len(data), hashlib.sha256(data).hexdigest().encode())
    return b"\n".join([BEGIN, header, *lines, END]) + b"\n"


def unframe(log: bytes) -> bytes:
    """The payload carried by ``log``; :class:`PayloadError` if it is missing, cut short or corrupt."""
    lines = log.replace(b"\r\n", b"\n").split(b"\n")
    starts = [i for i, ln in enumerate(lines) if ln.strip() == BEGIN]
    if not starts:
        raise PayloadError("no snapshot payload in the pod log" + _tail_hint(lines))
    if len(starts) > 1:
        raise PayloadError(f"{len(starts)} snapshot payloads in the pod log (expected one)")
    i = starts[0] + 1
    if i >= len(lines) or not lines[i].strip():
        raise PayloadError("snapshot payload cut short (no header line)")
    m = _HEADER.fullmatch(lines[i].strip())
    if m is None:
        if i == len(lines) - 1:  # the log ends inside the header line
            raise PayloadError("snapshot payload cut short (in its header line)")
        raise PayloadError("snapshot payload has a malformed header line")
    if int(m.group(1)) != VERSION:
        raise PayloadError(f"snapshot payload version {int(m.group(1))} is not supported (expected {VERSION})")
    size, digest = int(m.group(2)), m.group(3).decode()
    if size > MAX_BYTES:
        raise PayloadError(f"snapshot payload claims {size} bytes (more than {MAX_BYTES})")
    body: list[bytes] = []
    ended = False
    for ln in lines[i + 1:]:
        s = ln.strip()
        if s == END:
            ended = True
            break
        body.append(s)
    raw_b64 = b"".join(body)
    try:
        data = base64.b64decode(raw_b64, validate=True)
    except (binascii.Error, ValueError):
        if not ended:
            raise PayloadError(f"snapshot payload cut short (no end marker; about {len(raw_b64) * 3 // 4} of {size} "
                               "bytes arrived)") from None
        raise PayloadError("snapshot payload is corrupt (invalid base64)") from None
    if not ended:
        raise PayloadError(f"snapshot payload cut short (no end marker; {len(data)} of {size} bytes arrived)")
    if len(data) != size:
        raise PayloadError(f"snapshot payload cut short or padded ({len(data)} of {size} bytes)")
    if hashlib.sha256(data).hexdigest() != digest:
        raise PayloadError("snapshot payload is corrupt (sha256 mismatch)")
    return data


def _tail_hint(lines: list[bytes]) -> str:
    """The last non-empty log line (what the agent said before it stopped), shortened."""
    for ln in reversed(lines):
        text = ln.decode("utf-8", "replace").strip()
        if text:
            return f" (last line: {text[:160]})"
    return " (the log is empty)"

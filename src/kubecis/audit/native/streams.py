"""File descriptors of the interpreter: bounded output buffers, input streams, bytes <-> text."""

from __future__ import annotations

from kubecis.audit.native import bounds

__all__ = ["Out", "Stream", "TextSink", "dec", "enc"]


def enc(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def dec(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


class TextSink(list[str]):
    """Text a utility gathers before writing it, bounded like an output buffer (``bounds.MAX_BUFFER``)."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def append(self, text: str) -> None:
        self.size += len(text)
        bounds.check_size(self.size, "output", bounds.MAX_BUFFER)
        super().append(text)


class Out:
    """An output file descriptor: a buffer, or /dev/null."""

    __slots__ = ("buf", "null")

    def __init__(self, null: bool = False) -> None:
        self.buf = bytearray()
        self.null = null

    def write(self, data: bytes) -> None:
        if not self.null:
            bounds.check_size(len(self.buf) + len(data), "output", bounds.MAX_BUFFER)
            self.buf += data


class Stream:
    """An input file descriptor."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes = b"") -> None:
        self.data = data
        self.pos = 0

    def read_all(self) -> bytes:
        d = self.data[self.pos :]
        self.pos = len(self.data)
        return d

    def read_line(self) -> bytes | None:
        if self.pos >= len(self.data):
            return None
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            line = self.data[self.pos :]
            self.pos = len(self.data)
            return line
        line = self.data[self.pos : end + 1]
        self.pos = end + 1
        return line

"""Streaming writer for the SVR4 ``newc`` cpio archive that rpm 4.11 expects as payload.

Entry names carry the ``./`` prefix (rpmlib(PayloadFilesHavePrefix)); every entry is a
single link (nlink 1), so no hardlink sets reach the target (docs/el7-rules.md rule 11).
"""

from __future__ import annotations

from typing import Callable

MAGIC = b"070701"
TRAILER = "TRAILER!!!"
#: newc stores sizes in 8 hex digits: one file must stay below 4 GiB.
MAX_FILE_SIZE = 0xFFFFFFFF
_FLUSH_AT = 1 << 20
_PADS = (b"", b"\0\0\0", b"\0\0", b"\0")
#: ino, mode, uid 0, gid 0, nlink 1, mtime, size, dev 0:0, rdev 0:0, namesize, check 0.
_HEADER = MAGIC + b"%08x%08x" + b"0" * 16 + b"00000001%08x%08x" + b"0" * 32 + b"%08x" + b"0" * 8


class CpioWriter:
    """Writes entries to ``sink`` in order; small writes are batched into ~1 MiB chunks."""

    def __init__(self, sink: Callable[[bytes], object]) -> None:
        self._sink = sink
        self._buf = bytearray()
        self.size = 0

    def _emit(self, data: bytes) -> None:
        self._buf.extend(data)
        self.size += len(data)
        if len(self._buf) >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            self._sink(bytes(self._buf))
            self._buf.clear()

    def _header(self, name: str, ino: int, mode: int, mtime: int, size: int) -> None:
        if size > MAX_FILE_SIZE:
            raise ValueError(f"{name}: {size} bytes does not fit a newc cpio entry (< 4 GiB)")
        raw = name.encode("utf-8", "surrogateescape") + b"\0"
        head = _HEADER % (ino, mode, mtime, size, len(raw))
        self._emit(head + raw + b"\0" * (-(len(head) + len(raw)) % 4))

    def _pad(self) -> None:
        pad = -self.size % 4
        if pad:
            self._emit(b"\0" * pad)

    def begin(self, name: str, ino: int, mode: int, mtime: int, size: int) -> None:
        """Start an entry; the caller then sends exactly ``size`` bytes with :meth:`data`."""
        self._header(name, ino, mode, mtime, size)

    def data(self, chunk: bytes) -> None:
        if len(chunk) >= _FLUSH_AT:
            self.flush()
            self._sink(chunk)
            self.size += len(chunk)
        else:
            self._emit(chunk)

    def end(self) -> None:
        self._pad()

    def add(self, name: str, ino: int, mode: int, mtime: int, content: bytes = b"") -> None:
        """One whole entry in one buffer append (the common case: a small file)."""
        size = len(content)
        if size >= _FLUSH_AT:
            self.begin(name, ino, mode, mtime, size)
            self.data(content)
            self.end()
            return
        raw = name.encode("utf-8", "surrogateescape") + b"\0"
        head = _HEADER % (ino, mode, mtime, size, len(raw))
        self._emit(b"".join((head, raw, _PADS[(len(head) + len(raw)) % 4], content,
                             _PADS[size % 4])))

    def finish(self) -> None:
        self._header(TRAILER, 0, 0, 0, 0)
        self.flush()

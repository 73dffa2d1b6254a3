"""A decoded header's array values, kept compact: 4-8 bytes a value instead of an object.

The lint reads back headers of 10^5 files (fate-python: 11.6 MB at the real size). As
lists of Python objects a file cost ~1.6 KB of resident memory at the lint's peak: a str
per basename, digest, user, group and link target, an int object per size, mode, mtime
and dirindex (issue #12: the lint was the build's peak). Here:

- an integer array is an :class:`IntColumn`, an ``array`` of machine integers;
- a string array is a :class:`StrColumn`: the offset of each string in the header's own
  bytes (which the reader keeps anyway), each string decoded when it is asked for.

Both are sequences that compare equal to the list the old decoder made, so code that
indexes, iterates, zips or compares them works unchanged; they are read-only.
"""

from __future__ import annotations

import struct
import sys
from array import array
from typing import Iterator, Sequence, overload

#: array typecodes by the width of an RPM integer type (itemsize checked at import)
_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
assert all(array(c).itemsize == n for n, c in _CODES.items())
_SWAP = sys.byteorder == "little"  # RPM integers are big-endian


class IntColumn(array):
    """An RPM integer array (CHAR, INT8/16/32/64) as an ``array``; equal to its list, and
    a slice of it is a list (as a slice of the list was)."""

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return array.__getitem__(self, i).tolist()
        return array.__getitem__(self, i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return array.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.tolist())


def int_column(buf: bytes, pos: int, width: int, count: int) -> IntColumn:
    """``count`` big-endian integers of ``width`` bytes at ``pos``; struct.error past the
    end of ``buf``, as ``struct.unpack_from`` raised for the list form."""
    (raw,) = struct.unpack_from(f">{width * count}s", buf, pos)
    column = IntColumn(_CODES[width])
    column.frombytes(raw)
    if _SWAP and width > 1:
        column.byteswap()
    return column


class StrColumn(Sequence[str]):
    """An RPM string array: where each NUL-terminated string starts in the header's bytes.

    The offsets are found when the header is decoded (so a string without its NUL is a
    ValueError then, as before); the text is decoded (UTF-8, surrogateescape) per access.
    """

    __slots__ = ("_buf", "_starts")

    def __init__(self, buf: bytes, pos: int, count: int) -> None:
        if pos < 0:  # how bytes.index and slicing read a negative start
            pos = max(pos + len(buf), 0)
        starts = array("I")
        find = buf.index
        for _ in range(count):
            starts.append(pos)
            pos = find(b"\0", pos) + 1
        self._buf = buf
        self._starts = starts

    def __len__(self) -> int:
        return len(self._starts)

    def _at(self, start: int) -> str:
        buf = self._buf
        return buf[start:buf.index(b"\0", start)].decode("utf-8", "surrogateescape")

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._at(s) for s in self._starts[i]]
        return self._at(self._starts[i])

    def __iter__(self) -> Iterator[str]:
        return map(self._at, self._starts)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, StrColumn)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))


#: What a decoded array value may be (``isinstance`` checks that used to say ``list``).
ARRAYS = (list, IntColumn, StrColumn)

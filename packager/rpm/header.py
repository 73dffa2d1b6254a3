"""Encode and decode the RPM header structure (used for both signature and main header).

A header is: magic, index count, data length, 16-byte index entries (tag, type, offset,
count), then the data store. rpm 4.11 wants the region tag first with a trailer at the very
end of the store, entries sorted by tag, and each value aligned to its type's size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, Union

from packager.rpm.columns import ARRAYS, StrColumn, int_column
from packager.rpm.tags import HEADERIMMUTABLE, HEADERSIGNATURES, T

MAGIC = b"\x8e\xad\xe8\x01\x00\x00\x00\x00"
#: rpm 4.11 refuses a header whose data store reaches 16 MiB (lib/header_internal.h:
#: HEADER_DATA_MAX 0x00ffffff; 256 MB only from rpm 4.14).
HEADER_DATA_MAX = 0x00FFFFFF
#: ... and one with 65536 index entries or more (hdrchkTags: ``(_ntags) & 0xffff0000``).
HEADER_TAGS_MAX = 0x0000FFFF
_ALIGN = {T.INT16: 2, T.INT32: 4, T.INT64: 8}
_INT_FMT = {T.CHAR: "B", T.INT8: "B", T.INT16: "H", T.INT32: "I", T.INT64: "Q"}



@dataclass(frozen=True)
class Raw:
    """A value already encoded big-endian (``count`` elements): the file tags of a package
    with 10^5 files are built as one ``bytes`` each instead of lists of Python objects."""

    data: bytes
    count: int


@dataclass(frozen=True)
class Lazy:
    """A value made only while the header is measured or encoded, then dropped: a
    package's file tags never all exist as separate objects at once (the writer's memory
    per file, issue #12)."""

    make: Callable[[], Raw]


Value = Union[int, str, bytes, list, Raw, Lazy]


class HeaderTooLarge(ValueError):
    pass


@dataclass
class Header:
    """An ordered set of (tag -> typed value); ``encode`` lays it out the way rpm expects."""

    entries: dict[int, tuple[T, Value]] = field(default_factory=dict)

    def add(self, tag: int, typ: T, value: Value) -> None:
        if tag in self.entries:
            raise ValueError(f"tag {tag} added twice")
        self.entries[tag] = (typ, value)

    def data_size(self) -> int:
        """Length of the data store :meth:`encode` would write (trailer included)."""
        size = 0
        for tag in sorted(self.entries):
            typ, value = self.entries[tag]
            size += -size % _ALIGN.get(typ, 1)
            size += len(_data(typ, value)[0])
        return size + 16

    def encode(self, region_tag: int) -> bytearray:
        """The header's bytes, in one buffer: the index is reserved at its front and filled
        in last, each value is appended as it is made (a 14 MB header is not copied)."""
        nindex = len(self.entries) + 1
        if nindex > HEADER_TAGS_MAX:
            raise HeaderTooLarge(f"{nindex} header entries; rpm 4.11 refuses more than "
                                 f"{HEADER_TAGS_MAX}")
        front = 16 + 16 * nindex
        buf = bytearray(front)
        index: list[bytes] = []
        for tag in sorted(self.entries):
            typ, value = self.entries[tag]
            size = len(buf) - front
            pad = -size % _ALIGN.get(typ, 1)
            if pad:
                buf += b"\0" * pad
                size += pad
            data, count = _data(typ, value)
            index.append(struct.pack(">IIiI", tag, typ, size, count))
            buf += data
            del data
        trailer_offset = len(buf) - front
        buf += struct.pack(">IIiI", region_tag, T.BIN, -nindex * 16, 16)
        size = len(buf) - front
        if size >= HEADER_DATA_MAX:
            raise HeaderTooLarge(
                f"header data is {size} bytes; rpm 4.11 refuses 16 MiB or more "
                "(HEADER_DATA_MAX; split the package: about 145 bytes per file)"
            )
        region = struct.pack(">IIiI", region_tag, T.BIN, trailer_offset, 16)
        buf[:front] = b"".join([MAGIC, struct.pack(">II", nindex, size), region, *index])
        return buf


def _data(typ: T, value: Value) -> tuple[bytes, int]:
    if isinstance(value, Lazy):
        value = value.make()
    if isinstance(value, Raw):
        return value.data, value.count
    return _encode_value(typ, value)


def _encode_value(typ: T, value: Value) -> tuple[bytes, int]:
    if typ in _INT_FMT:
        values = value if isinstance(value, list) else [value]
        fmt = ">" + _INT_FMT[typ] * len(values)
        mask = (1 << (8 * struct.calcsize(_INT_FMT[typ]))) - 1
        return struct.pack(fmt, *[v & mask for v in values]), len(values)
    if typ in (T.STRING, T.I18NSTRING):
        if not isinstance(value, str):
            raise TypeError(f"string expected, got {value!r}")
        _check_nul(value)
        return value.encode() + b"\0", 1
    if typ == T.STRING_ARRAY:
        for v in value:  # type: ignore[union-attr]
            _check_nul(v)
        return b"".join(v.encode() + b"\0" for v in value), len(value)  # type: ignore[union-attr]
    if typ == T.BIN:
        assert isinstance(value, bytes)
        return value, len(value)
    raise ValueError(f"unsupported type {typ}")


def _check_nul(s: str) -> None:
    if "\0" in s:
        raise ValueError(f"NUL byte in header string {s!r}")


# ---------------------------------------------------------------- decoding


@dataclass
class ParsedHeader:
    """A decoded header: values by tag, plus the raw types and the byte length."""

    values: dict[int, Any]
    types: dict[int, T]
    length: int
    data_length: int
    region_tag: int | None
    index_count: int = 0

    def get(self, tag: int, default: Any = None) -> Any:
        return self.values.get(tag, default)

    def array(self, tag: int) -> Sequence:
        v = self.values.get(tag, [])
        return v if isinstance(v, ARRAYS) else [v]


def decode(buf: bytes, offset: int = 0) -> ParsedHeader:
    """The header at ``offset``; its string arrays keep referring to ``buf`` (copied first
    when it is mutable)."""
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    if buf[offset : offset + 8] != MAGIC:
        raise ValueError("bad header magic")
    nindex, dlen = struct.unpack_from(">II", buf, offset + 8)
    index_start = offset + 16
    store_start = index_start + 16 * nindex
    if store_start + dlen > len(buf):
        raise ValueError("truncated header")
    values: dict[int, Any] = {}
    types: dict[int, T] = {}
    region = None
    for i in range(nindex):
        tag, typ, off, count = struct.unpack_from(">IIiI", buf, index_start + 16 * i)
        typ = T(typ)
        if i == 0 and tag in (HEADERIMMUTABLE, HEADERSIGNATURES, 61):
            region = tag
            continue
        types[tag] = typ
        values[tag] = _decode_value(buf, store_start + off, typ, count)
    return ParsedHeader(values, types, 16 + 16 * nindex + dlen, dlen, region, nindex)


def _decode_value(buf: bytes, pos: int, typ: T, count: int) -> Any:
    """A STRING as ``str``, BIN as ``bytes``; arrays as compact columns (packager.rpm.columns:
    equal to the lists an eager decoder makes, a few bytes a value instead of an object)."""
    if typ in _INT_FMT:
        return int_column(buf, pos, struct.calcsize(_INT_FMT[typ]), count)
    if typ == T.STRING:  # one value: decoded now, every string of its count checked
        out = []
        for _ in range(count):
            end = buf.index(b"\0", pos)
            out.append(buf[pos:end].decode("utf-8", "surrogateescape"))
            pos = end + 1
        return out[0]
    if typ in (T.I18NSTRING, T.STRING_ARRAY):
        return StrColumn(buf, pos, count)
    if typ == T.BIN:
        return bytes(buf[pos : pos + count])
    raise ValueError(f"unsupported type {typ}")

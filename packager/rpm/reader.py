"""Read an RPM's lead and headers back (for the lint, `verify`, `inspect` and the tests).

Only the headers are read into memory; the payload is left on disk and streamed on demand.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from packager.rpm import tags as t
from packager.rpm.columns import ARRAYS
from packager.rpm.header import ParsedHeader, decode

LEAD_SIZE = 96
LEAD_MAGIC = b"\xed\xab\xee\xdb"
_CHUNK = 1 << 20


class NotAnRpm(ValueError):
    pass


@dataclass
class RpmFile:
    path: Path
    signature: ParsedHeader
    header: ParsedHeader
    header_offset: int
    payload_offset: int
    file_size: int
    header_bytes: bytes

    # -- convenience views -------------------------------------------------
    def tag(self, tag: int, default=None):
        """A tag's value; one-element integer and i18n values (EPOCH, SUMMARY) unwrapped."""
        v = self.header.get(tag, default)
        if (isinstance(v, ARRAYS) and len(v) == 1 and tag not in _ARRAY_TAGS
                and self.header.types.get(tag) != t.T.STRING_ARRAY):
            return v[0]
        return v

    @property
    def name(self) -> str:
        return self.tag(t.NAME)

    @property
    def nevra(self) -> str:
        epoch = self.tag(t.EPOCH)
        e = f"{epoch}:" if epoch is not None else ""
        return f"{self.name}-{e}{self.tag(t.VERSION)}-{self.tag(t.RELEASE)}.{self.tag(t.ARCH)}"

    def deps(self, kind: str) -> list[tuple[str, int, str]]:
        name, flags, version = _DEP_TAGS[kind]
        return list(zip(self.header.array(name), self.header.array(flags),
                        self.header.array(version)))

    def filenames(self) -> list[str]:
        return list(self.iter_filenames())

    def iter_filenames(self) -> Iterator[str]:
        """The paths one at a time: a list of them is ~150 bytes a path, and a rule that
        only walks them need not hold 10^5 at once."""
        dirs = list(self.header.array(t.DIRNAMES))  # few, each used by many files
        return (dirs[i] + b for i, b in zip(self.header.array(t.DIRINDEXES),
                                            self.header.array(t.BASENAMES)))

    def file_count(self) -> int:
        """``len(self.filenames())``, without making them."""
        return min(len(self.header.array(t.DIRINDEXES)), len(self.header.array(t.BASENAMES)))

    def filename(self, i: int) -> str:
        """``self.filenames()[i]`` (i in range)."""
        return self.header.array(t.DIRNAMES)[self.header.array(t.DIRINDEXES)[i]] + \
            self.header.array(t.BASENAMES)[i]

    def payload(self) -> Iterator[bytes]:
        with open(self.path, "rb") as f:
            f.seek(self.payload_offset)
            yield from iter(lambda: f.read(_CHUNK), b"")

    def compute_digests(self) -> dict[str, bool]:
        """Recompute what ``rpm -K`` checks on EL7: SHA1 of the header, MD5 and SIZE of all."""
        md5 = hashlib.md5(self.header_bytes)
        payload_sha = hashlib.sha256()
        size = len(self.header_bytes)
        for chunk in self.payload():
            md5.update(chunk)
            payload_sha.update(chunk)
            size += len(chunk)
        result = {
            "sha1": self.signature.get(t.SIG_SHA1) == hashlib.sha1(self.header_bytes).hexdigest(),
            "md5": self.signature.get(t.SIG_MD5) == md5.digest(),
            "size": (self.signature.get(t.SIG_SIZE) or [None])[0] == size,
        }
        if t.SIG_SHA256 in self.signature.values:
            result["sha256"] = (self.signature.get(t.SIG_SHA256)
                                == hashlib.sha256(self.header_bytes).hexdigest())
        if t.PAYLOADDIGEST in self.header.values:
            expected = self.header.array(t.PAYLOADDIGEST)[0]
            result["payload-sha256"] = expected == payload_sha.hexdigest()
        return result


_ARRAY_TAGS = {
    t.FILESIZES, t.FILEMODES, t.FILERDEVS, t.FILEMTIMES, t.FILEFLAGS, t.FILEVERIFYFLAGS,
    t.FILEDEVICES, t.FILEINODES, t.DIRINDEXES, t.REQUIREFLAGS, t.PROVIDEFLAGS,
    t.CONFLICTFLAGS, t.OBSOLETEFLAGS,
}
_DEP_TAGS = {
    "requires": (t.REQUIRENAME, t.REQUIREFLAGS, t.REQUIREVERSION),
    "provides": (t.PROVIDENAME, t.PROVIDEFLAGS, t.PROVIDEVERSION),
    "conflicts": (t.CONFLICTNAME, t.CONFLICTFLAGS, t.CONFLICTVERSION),
    "obsoletes": (t.OBSOLETENAME, t.OBSOLETEFLAGS, t.OBSOLETEVERSION),
}


def read_rpm(path: Path | str) -> RpmFile:
    path = Path(path)
    with open(path, "rb") as f:
        return _read(f, path)


def _read(f: BinaryIO, path: Path) -> RpmFile:
    lead = f.read(LEAD_SIZE)
    if len(lead) < LEAD_SIZE or lead[:4] != LEAD_MAGIC:
        raise NotAnRpm(f"{path}: not an RPM (bad lead)")
    sig_buf = _read_header_bytes(f, path)
    sig = decode(sig_buf)
    f.seek(-len(sig_buf) % 8, 1)
    header_offset = f.tell()
    hdr_buf = _read_header_bytes(f, path)
    hdr = decode(hdr_buf)
    payload_offset = f.tell()
    f.seek(0, 2)
    return RpmFile(path, sig, hdr, header_offset, payload_offset, f.tell(), hdr_buf)


def _read_header_bytes(f: BinaryIO, path: Path) -> bytes:
    start = f.tell()
    intro = f.read(16)
    if len(intro) < 16:
        raise NotAnRpm(f"{path}: truncated header")
    nindex, dlen = struct.unpack(">II", intro[8:16])
    # Looser than rpm 4.11 (65535 entries, 16 MiB of data): the lint (rule 4) names those.
    if nindex > 0x000FFFFF or dlen > 0x0FFFFFFF:
        raise NotAnRpm(f"{path}: implausible header size")
    f.seek(start)  # read again with its intro: one buffer, not a second copy of 10 MB
    whole = f.read(16 + 16 * nindex + dlen)
    if len(whole) < 16 + 16 * nindex + dlen:
        raise NotAnRpm(f"{path}: truncated header")
    return whole

"""Byte-for-byte reproducible tar.gz and zip (jar, wheel) writers.

Why: the sample release is checked against fixed sha256 values in
specs/releases/sample-1.4.5.yaml, so every archive must come out identical on every run:
sorted members, one fixed mtime, root ownership, normalised modes, gzip header without
name or time.

Streaming: the full profile is 5.3 GiB in ~100k paths, so a member's bytes may be made only
when it is written (``Entry.make``) or come from a file on disk (``Entry.path``: an inner
archive spooled there), and archives are written straight into a file. One member's bytes
are in memory at a time, whatever the release's size.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Dict, Tuple

#: 2020-09-27 00:00 UTC, the day FATE v1.4.5 was tagged; every member carries this mtime.
EPOCH = 1601164800
ZIP_TIME = (2020, 9, 27, 0, 0, 0)


@dataclass(frozen=True)
class Entry:
    """A file (data, or made by ``make`` when written, or the file at ``path``), a
    directory (is_dir) or a symlink (link) inside an archive tree."""

    data: bytes = b""
    mode: int = 0o644
    link: str | None = None
    is_dir: bool = False
    make: Callable[[], bytes] | None = None
    path: Path | None = None

    def content(self) -> bytes:
        if self.make is not None:
            return self.make()
        if self.path is not None:
            return self.path.read_bytes()
        return self.data


Tree = Dict[str, Entry]


def file(data: bytes | str, executable: bool = False) -> Entry:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return Entry(data=raw, mode=0o755 if executable else 0o644)


def with_parents(tree: Tree) -> Tree:
    """The tree plus an explicit entry for every parent directory (tar lists them)."""
    full = dict(tree)
    for path in tree:
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            full.setdefault("/".join(parts[:depth]), Entry(mode=0o755, is_dir=True))
    return full


def prefixed(tree: Tree, prefix: str) -> Tree:
    """Move every member under ``prefix/`` (the archive's top directory)."""
    moved = {f"{prefix}/{path}": entry for path, entry in tree.items()}
    moved[prefix] = Entry(mode=0o755, is_dir=True)
    return moved


def tar_gz(tree: Tree, level: int = 6) -> bytes:
    """A gzip-compressed GNU tar of ``tree`` with fixed metadata."""
    out = io.BytesIO()
    write_tar_gz(tree, out, level)
    return out.getvalue()


def tar_gz_file(tree: Tree, dest: Path, level: int = 6) -> Path:
    """``tar_gz`` written into ``dest`` as it goes (the same bytes)."""
    with open(dest, "wb") as out:
        write_tar_gz(tree, out, level)
    return dest


def write_tar_gz(tree: Tree, out: BinaryIO, level: int) -> None:
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=level) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
        full = with_parents(tree)
        for path in sorted(full):
            entry = full[path]
            info = tarfile.TarInfo(path)
            info.mtime, info.uid, info.gid = EPOCH, 0, 0
            info.uname = info.gname = "root"
            info.mode = entry.mode
            if entry.is_dir:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif entry.link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, entry.link
                info.mode = 0o777
                tar.addfile(info)
            elif entry.path is not None:
                info.size = os.path.getsize(entry.path)
                with open(entry.path, "rb") as f:
                    tar.addfile(info, f)
            else:
                data = entry.content()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def zip_bytes(tree: Tree, level: int | None = None) -> bytes:
    """A deflated zip (jar or wheel) of the files in ``tree``, sorted, fixed timestamps."""
    out = io.BytesIO()
    write_zip(tree, out, level)
    return out.getvalue()


def write_zip(tree: Tree, out: BinaryIO, level: int | None = None,
              trailer: Callable[[Dict[str, Tuple[bytes, int]]], Tree] | None = None) -> None:
    """``zip_bytes`` into ``out``. ``trailer`` gets each written member's (sha256, size)
    and returns members to append after them: a wheel's RECORD, which lists the digests
    of all the others, without holding their bytes."""
    seen: Dict[str, Tuple[bytes, int]] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=level) as archive:
        def put(items: Tree) -> None:
            for path in sorted(items):
                entry = items[path]
                if entry.is_dir or entry.link is not None:
                    continue
                info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = (0o100000 | entry.mode) << 16
                data = entry.content()
                seen[path] = (hashlib.sha256(data).digest(), len(data))
                archive.writestr(info, data)

        put(tree)
        if trailer is not None:
            put(trailer(seen))

"""Byte-for-byte reproducible tar.gz and zip (jar, wheel) writers.

Why: the sample release is checked against fixed sha256 values in
specs/releases/sample-1.4.5.yaml, so every archive must come out identical on every run:
sorted members, one fixed mtime, root ownership, normalised modes, gzip header without
name or time.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from dataclasses import dataclass
from typing import Dict

#: 2020-09-27 00:00 UTC, the day FATE v1.4.5 was tagged; every member carries this mtime.
EPOCH = 1601164800
ZIP_TIME = (2020, 9, 27, 0, 0, 0)


@dataclass(frozen=True)
class Entry:
    """A file (data), a directory (is_dir) or a symlink (link) inside an archive tree."""

    data: bytes = b""
    mode: int = 0o644
    link: str | None = None
    is_dir: bool = False


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
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
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
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=level) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def zip_bytes(tree: Tree, level: int | None = None) -> bytes:
    """A deflated zip (jar or wheel) of the files in ``tree``, sorted, fixed timestamps."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=level) as archive:
        for path in sorted(tree):
            entry = tree[path]
            if entry.is_dir or entry.link is not None:
                continue
            info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (0o100000 | entry.mode) << 16
            archive.writestr(info, entry.data)
    return out.getvalue()

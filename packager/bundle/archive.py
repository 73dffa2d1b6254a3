"""A byte-reproducible ``.tar.gz`` of one directory tree.

Same tree + same SOURCE_DATE_EPOCH -> same bytes, whoever builds it and whenever: members
sorted by path, every mtime = SDE, owner root (uid/gid 0, no user or group names), modes
normalised to 0755/0644, GNU format (no PAX headers with atime/ctime), gzip header with
mtime 0 and no file name.
"""

from __future__ import annotations

import gzip
import os
import stat
import tarfile
from pathlib import Path

#: The bundle is mostly RPMs whose payloads are already gzip/xz: a higher zlib level
#: costs several times the CPU for well under 1 % (bench/bundle.py measures it).
GZIP_LEVEL = 1
_CHUNK = 1 << 20


def _members(root: Path) -> list[Path]:
    out = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.append(Path(dirpath) / name)
    return sorted(out, key=lambda p: p.relative_to(root.parent).as_posix())


def write_tar_gz(root: Path, dest: Path, mtime: int) -> None:
    """Write ``root`` (its own name as the top directory) into ``dest``."""
    with open(dest, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                          compresslevel=GZIP_LEVEL) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in _members(root):
            st = path.lstat()
            info = tarfile.TarInfo(path.relative_to(root.parent).as_posix())
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif stat.S_ISREG(st.st_mode):
                info.size = st.st_size
                info.mode = 0o755 if st.st_mode & 0o111 else 0o644
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                raise ValueError(f"{path}: only files and directories belong in a bundle")

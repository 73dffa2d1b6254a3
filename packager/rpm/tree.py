"""Turn a directory tree on disk into payload entries (sorted, deterministic)."""

from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
from pathlib import Path
from typing import Sequence

from packager.rpm.model import FileEntry


class TreeError(ValueError):
    pass


def entries_from_tree(
    src: Path,
    dst: str,
    *,
    owner: str = "root",
    group: str = "root",
    file_mode: int | None = None,
    dir_mode: int | None = None,
    own_root: bool = True,
    flags: int = 0,
    exclude: Sequence[str] = (),
) -> list[FileEntry]:
    """Every directory, file and symlink below ``src``, placed under ``dst``.

    Modes come from the source unless ``file_mode``/``dir_mode`` force them (executable
    bits are kept when ``file_mode`` is forced: 0644 becomes 0755 for an executable).
    Device files, fifos and sockets are refused: they have no place in an RPM of ours.
    ``exclude`` holds fnmatch patterns of paths relative to ``src`` (a matching directory
    is left out with everything below it), for files another entry lists with other flags.
    """
    if not src.is_dir():
        raise TreeError(f"{src} is not a directory")
    out: list[FileEntry] = []
    if own_root:
        out.append(FileEntry(dst, "dir", mode=dir_mode or _perm(src), owner=owner, group=group))
    for root, dirs, files in os.walk(src):
        dirs.sort()
        rel_root = os.path.relpath(root, src)
        base = dst if rel_root == "." else posixpath.join(dst, Path(rel_root).as_posix())
        for name in sorted(dirs + files):
            path = Path(root, name)
            rel = path.relative_to(src).as_posix()
            if any(fnmatch.fnmatchcase(rel, pat) for pat in exclude):
                if name in dirs:
                    dirs.remove(name)
                continue
            st = path.lstat()
            target = posixpath.join(base, name)
            if stat.S_ISLNK(st.st_mode):
                out.append(FileEntry(target, "symlink", link_target=os.readlink(path),
                                     owner=owner, group=group))
                if name in dirs:
                    dirs.remove(name)  # os.walk does not follow it anyway
            elif stat.S_ISDIR(st.st_mode):
                out.append(FileEntry(target, "dir", mode=dir_mode or stat.S_IMODE(st.st_mode),
                                     owner=owner, group=group))
            elif stat.S_ISREG(st.st_mode):
                mode = stat.S_IMODE(st.st_mode)
                if file_mode is not None:
                    mode = file_mode | (0o111 & mode if mode & 0o100 else 0)
                out.append(FileEntry(target, "file", source=path, mode=mode, owner=owner,
                                     group=group, flags=flags))
            else:
                raise TreeError(f"{path} is a device, fifo or socket; RPMs of ours carry none")
    return out


def _perm(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)

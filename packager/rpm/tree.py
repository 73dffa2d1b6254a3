"""Turn a directory tree on disk into payload entries (sorted, deterministic)."""

from __future__ import annotations

import fnmatch
import os
import stat
from pathlib import Path
from typing import Sequence

from packager.rpm.filetable import FileTable


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
) -> FileTable:
    """Every directory, file and symlink below ``src``, placed under ``dst``.

    Modes come from the source unless ``file_mode``/``dir_mode`` force them (executable
    bits are kept when ``file_mode`` is forced: 0644 becomes 0755 for an executable).
    Device files, fifos and sockets are refused: they have no place in an RPM of ours.
    ``exclude`` holds fnmatch patterns of paths relative to ``src`` (a matching directory
    is left out with everything below it), for files another entry lists with other flags.
    """
    if not src.is_dir():
        raise TreeError(f"{src} is not a directory")
    out = FileTable()
    add = out.add
    root = dst.rstrip("/") if dst != "/" else ""
    # every file's source is ``src`` + its path after ``root``: one base for the tree
    base = out.base(root, os.fspath(src))
    if own_root:
        add(dst, "dir", mode=dir_mode or _perm(src), owner=owner, group=group)
    # Strings and scandir, not Path objects: this runs once per file of a 10^5-file venv.
    stack = [(os.fspath(src), "", root)]
    while stack:
        top, rel_top, at = stack.pop()
        with os.scandir(top) as it:
            children = sorted(it, key=lambda d: d.name)
        for child in children:
            name = child.name
            rel = rel_top + name
            if exclude and any(fnmatch.fnmatchcase(rel, pat) for pat in exclude):
                continue
            st = child.stat(follow_symlinks=False)
            target = at + "/" + name
            mode = st.st_mode
            if stat.S_ISLNK(mode):
                add(target, "symlink", link_target=os.readlink(child.path), owner=owner,
                    group=group)
            elif stat.S_ISDIR(mode):
                add(target, "dir", mode=dir_mode or stat.S_IMODE(mode), owner=owner,
                    group=group)
                stack.append((child.path, rel + "/", target))
            elif stat.S_ISREG(mode):
                perm = stat.S_IMODE(mode)
                if file_mode is not None:
                    perm = file_mode | (0o111 & perm if perm & 0o100 else 0)
                add(target, "file", base, mode=perm, owner=owner, group=group, flags=flags)
            else:
                raise TreeError(f"{child.path} is a device, fifo or socket; RPMs of ours "
                                "carry none")
    return out


def _perm(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)

"""Small file helpers shared by the build, the bundle and the lint: one of each idea."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (bounded memory for GB-sized files) into
    one reused buffer."""
    h = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def identity(path: Path | str) -> list[int]:
    """What tells that a file is still the one hashed: device, inode, size, mtime (ns).

    Our writers replace a file by renaming a new one over it (a new inode), and anything
    that rewrites it in place moves its mtime. The ctime is left out on purpose: a hard
    link to the file (a bundle's, a cache's) changes it without changing a byte.
    """
    st = os.stat(path)
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def digest_record(path: Path | str) -> dict:
    """``{"sha256", "identity"}`` of a file, to keep in a state file beside its name: a
    later step takes the sha256 from :func:`recorded_digest` instead of reading the file
    again. The identity is taken before and after hashing; a file that changed meanwhile
    gets no record."""
    before = identity(path)
    sha = sha256_file(path)
    return {"sha256": sha, "identity": before} if identity(path) == before else {}


def recorded_digest(path: Path | str, record: dict) -> str | None:
    """The sha256 a :func:`digest_record` kept, if ``path`` is still that file."""
    sha = record.get("sha256")
    try:
        same = record.get("identity") == identity(path)
    except OSError:
        return None
    return sha if same and isinstance(sha, str) and len(sha) == 64 else None


def load_state(path: Path) -> dict:
    """A JSON state file (e.g. build fingerprints); missing or damaged counts as empty."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def save_state(path: Path, state: dict) -> None:
    """Write a JSON state file atomically (a crash never leaves half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, path)


def copy_range(src: int, dst: int, size: int) -> None:
    """``size`` bytes from fd ``src`` to fd ``dst`` at their offsets, in the kernel if it can
    (``copy_file_range``), else through user space (pipes, file systems without it).
    A source that ends early is an error, never a short copy."""
    left = size
    try:
        while left:
            n = os.copy_file_range(src, dst, min(left, 1 << 30))
            if n == 0:
                raise OSError(f"file shrank by {left} bytes while being copied")
            left -= n
        return
    except OSError as exc:
        if left != size or exc.errno is None:  # a real error, or part-way: not a fallback
            raise
    with os.fdopen(os.dup(src), "rb") as fin, os.fdopen(os.dup(dst), "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)  # other file systems (no copy_file_range)

"""Small file helpers shared by the build, the bundle and the lint: one of each idea."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (bounded memory for GB-sized files)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


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

"""Move a tree that was installed under a staging prefix to its final prefix, in place.

Installers (Miniconda, virtualenv, pip) write their own prefix into shebangs, config files,
symlinks and sometimes binaries. We install at ``STAGE + FINAL`` and rewrite every occurrence
of that to ``FINAL`` — text by plain replacement, binaries the way conda does (the C string
is rewritten and padded with NULs, which only works because the new prefix is shorter), and
symlink targets. Byte-compiled files embed the staging path inside length-prefixed strings,
so they are removed instead; the python-env step compiles them again afterwards, for the
final prefix (:mod:`packager.assemble.bytecode`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection

_CHUNK_LIMIT = 256 << 20  # larger files are not scanned (no prefix text in GB-sized data)


class RelocationError(ValueError):
    pass


@dataclass
class Relocated:
    """What :func:`relocate` did. ``changed``: the files it rewrote (paths as strings), the
    only ones whose pip RECORD hash is stale; ``leftovers``: files still holding the old
    prefix after rewriting (should be none). Both come from the one read of each file."""

    counts: dict[str, int] = field(default_factory=lambda: {
        "text": 0, "binary": 0, "symlink": 0, "pycache": 0})
    changed: set[str] = field(default_factory=set)
    leftovers: list[Path] = field(default_factory=list)


def relocate(tree: Path, old: str, new: str, skip: Collection[str] = ()) -> Relocated:
    """Rewrite ``old`` -> ``new`` under ``tree``, reading each file once.

    ``skip``: files (normalised paths) known not to hold ``old``, not read at all: what
    the wheel install copied as it was (a wheel made elsewhere cannot name our staging
    directory)."""
    if not old or len(new) > len(old):
        raise RelocationError(f"cannot relocate to a longer prefix ({new!r} > {old!r})")
    old_b, new_b = old.encode(), new.encode()
    done = Relocated()
    counts = done.counts
    for root, dirs, files in os.walk(tree):
        if "__pycache__" in dirs:
            shutil.rmtree(Path(root, "__pycache__"))
            dirs.remove("__pycache__")
            counts["pycache"] += 1
        for name in dirs + files:
            if skip and not name.endswith((".pyc", ".pyo")) and \
                    os.path.normpath(os.path.join(root, name)) in skip:
                continue  # a regular file copied from a wheel (never a symlink, a dir)
            path = Path(root, name)
            if path.is_symlink():
                target = os.readlink(path)
                if old in target:
                    path.unlink()
                    target = target.replace(old, new)
                    path.symlink_to(target)
                    counts["symlink"] += 1
                    if old in target:
                        done.leftovers.append(path)
                continue
            if name not in files:
                continue
            if name.endswith((".pyc", ".pyo")):
                path.unlink()
                counts["pycache"] += 1
                continue
            size = path.stat().st_size
            if size == 0 or size > _CHUNK_LIMIT:
                continue
            data = path.read_bytes()
            if old_b not in data:
                continue
            if b"\0" in data:
                data = _replace_c_strings(data, old_b, new_b)
                counts["binary"] += 1
            else:
                data = data.replace(old_b, new_b)
                counts["text"] += 1
            mode = path.stat().st_mode
            path.write_bytes(data)
            os.chmod(path, mode)
            done.changed.add(os.path.normpath(path))
            if old_b in data:
                done.leftovers.append(path)
    return done


def _replace_c_strings(data: bytes, old: bytes, new: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        i = data.find(old, pos)
        if i < 0:
            out += data[pos:]
            return bytes(out)
        end = data.find(b"\0", i)
        if end < 0:
            end = len(data)
        segment = data[i:end]
        replaced = segment.replace(old, new)
        out += data[pos:i] + replaced + b"\0" * (len(segment) - len(replaced))
        pos = end


def find_leftovers(tree: Path, needle: str) -> list[Path]:
    """Files that still mention the staging prefix (should be none after :func:`relocate`)."""
    hits = []
    nb = needle.encode()
    for p in tree.rglob("*"):
        if p.is_symlink():
            if needle in os.readlink(p):
                hits.append(p)
        elif p.is_file() and 0 < p.stat().st_size <= _CHUNK_LIMIT and nb in p.read_bytes():
            hits.append(p)
    return hits

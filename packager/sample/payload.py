"""Reads the stand-ins' source files from ``packager/sample/payload/`` into archive trees.

The payload directory mirrors the artifacts' trees, so each stand-in is an ordinary file
to read and review; the generator only decides where each subtree lands.
"""

from __future__ import annotations

import os
from pathlib import Path

from packager.sample.archive import Entry, Tree

PAYLOAD = Path(__file__).resolve().parent / "payload"
SKIP_DIRS = {"__pycache__"}


def tree(subdir: str) -> Tree:
    """Every file under ``payload/subdir`` keyed by its relative path (modes 0755/0644)."""
    root = PAYLOAD / subdir
    if not root.is_dir():
        raise FileNotFoundError(f"sample payload {root} is missing")
    found: Tree = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            executable = bool(path.stat().st_mode & 0o111)
            found[rel] = Entry(data=path.read_bytes(), mode=0o755 if executable else 0o644)
    return found


def text(rel: str) -> bytes:
    return (PAYLOAD / rel).read_bytes()

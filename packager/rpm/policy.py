"""File-list rules from docs/el7-rules.md (10, 11) that are checked before any byte is written."""

from __future__ import annotations

import posixpath
from functools import lru_cache

from packager.resources import el7, read_list
from packager.rpm.model import FileEntry


@lru_cache(maxsize=1)
def system_dirs() -> frozenset[str]:
    """Directories CentOS 7's own packages own; never list them (rule 10)."""
    return frozenset(read_list(el7() / "system-dirs.txt"))


def check_entries(entries: list[FileEntry]) -> list[str]:
    problems = []
    seen: set[str] = set()
    symlinks = set()
    for e in entries:
        p = e.path
        if not p.startswith("/") or posixpath.normpath(p) != p or p == "/":
            problems.append(f"{p!r} is not a normalised absolute path")
            continue
        if p in seen:
            problems.append(f"{p} is listed twice")
        seen.add(p)
        if p in system_dirs():
            problems.append(
                f"{p} is a system directory owned by CentOS 7's own packages; "
                "list only your own trees (el7 rule 10)"
            )
        if e.kind == "file" and not e.ghost and e.source is None:
            problems.append(f"{p}: a file needs a source")
        if e.kind == "symlink":
            symlinks.add(p)
            if not e.link_target:
                problems.append(f"{p}: a symlink needs a target")
        if not 0 <= e.perm <= 0o7777:
            problems.append(f"{p}: mode {e.perm:o} is not a permission mode")
        if not e.owner or not e.group:
            problems.append(f"{p}: owner and group must not be empty")
    if symlinks:
        _under_symlinks(seen, symlinks, problems)
    return problems


def _under_symlinks(paths: set[str], symlinks: set[str], problems: list[str]) -> None:
    """Paths below a shipped symlink; each directory is looked up once (10^5 paths)."""
    verdict: dict[str, str | None] = {"/": None}

    def link_above(d: str) -> str | None:
        chain = []
        while d not in verdict:
            if d in symlinks:
                found: str | None = d
                break
            chain.append(d)
            d = posixpath.dirname(d)
        else:
            found = verdict[d]
        for c in chain:
            verdict[c] = found
        return found

    for p in sorted(paths):
        link = link_above(posixpath.dirname(p))
        if link is not None:
            problems.append(
                f"{p} lies under {link}, which this package ships as a symlink "
                "(cpio: cannot rename on install; el7 rule 11)"
            )

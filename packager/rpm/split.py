"""Split a package whose header would not fit rpm 4.11 into a parent and parts, by subtree.

rpm 4.11.3 refuses a header whose data reaches 16 MiB (``HEADER_DATA_MAX``), about 145 bytes
per file: the real FATE 1.4.5 venv (40-70k paths) plus Miniconda (10-15k) comes within 2x
of it. The budget is 12 MiB, not 16, because:

- the header grows after the build: when rpm installs a package it adds tags to the copy in
  its database (``FILESTATES``, one byte per file, ``INSTALLTIME``, ``INSTALLTID``,
  ``INSTALLCOLOR``...) and that copy is checked against the same limit when read back;
- the next release of the same tree is usually bigger (a new tensorflow adds thousands of
  files); 4 MiB of room is about 28k more files before the split layout has to change;
- it keeps every part far from the limit, so no single part is "just under" it.

The split is deterministic (sorted paths, greedy, no hashing): the same file list gives the
same parts. Parts are named ``<name>-<subtree>-a``, ``-b``... after the directory whose
children were divided (``fate-python-site-packages-a``). The parent requires every part at
its exact EVR and every part requires the parent at its exact EVR, so ``yum install
<name>`` installs them all, an upgrade replaces them all, and ``yum remove <name>`` removes
the parts with it.
"""

from __future__ import annotations

import posixpath
import re
import string
from dataclasses import replace

from packager.rpm import tags as t
from packager.rpm.model import Dependency, FileEntry, Package
from packager.rpm.writer import BuildError, header_size

#: Header data budget per package; see the module docstring for why 12 MiB.
BUDGET = 12 << 20
#: Bytes every file entry costs in the file tags besides its strings: nine 32/16-bit arrays
#: (sizes, modes, rdevs, mtimes, flags, verifyflags, devices, inodes, dirindexes), and the
#: NUL of the lang string.
_FIXED = 4 + 2 + 2 + 4 + 4 + 4 + 4 + 4 + 4 + 1
_LABEL = re.compile(r"[^A-Za-z0-9._+]+")


def entry_cost(e: FileEntry) -> int:
    """The bytes one entry adds to the file tags (its directory name not counted)."""
    digest = 65 if e.kind == "file" and not e.ghost else 1
    base = len(e.path) - e.path.rindex("/")  # basename + NUL
    return (_FIXED + digest + base + len(e.link_target.encode("utf-8", "surrogateescape")) + 1
            + len(e.owner) + 1 + len(e.group) + 1)


def split_package(pkg: Package, budget: int = BUDGET) -> list[Package]:
    """``[pkg]`` when its header fits ``budget``, else ``[parent, part-a, part-b, ...]``."""
    size = header_size(pkg)
    if size <= budget:
        return [pkg]
    empty = header_size(replace(pkg, files=[]))
    capacity = budget - empty - 4096  # room for alignment and the parts' own metadata
    remaining = sorted(pkg.files, key=lambda e: e.path)
    parts: list[tuple[str, list[FileEntry]]] = []
    used: set[str] = set()
    while _cost(remaining) > capacity:
        split_dir = _split_dir(remaining)
        groups = _pack(remaining, split_dir, capacity)
        if not groups:
            raise BuildError(
                f"{pkg.name}: header data would be {size} bytes for {len(pkg.files)} files and "
                f"no subtree can be split off to stay under {budget} bytes")
        label = _LABEL.sub("-", posixpath.basename(split_dir) or "root").strip("-") or "root"
        moved: set[str] = set()
        for group in groups:
            parts.append((_part_name(pkg.name, label, used), group))
            moved.update(e.path for e in group)
        remaining = [e for e in remaining if e.path not in moved]
    evr = pkg.evr
    exact = t.SENSE_EQUAL
    parent = replace(pkg, files=remaining, requires=[
        *pkg.requires, *(Dependency(name, exact, evr) for name, _ in parts)])
    out = [parent]
    for name, group in parts:
        out.append(Package(
            name=name, version=pkg.version, release=pkg.release, epoch=pkg.epoch,
            arch=pkg.arch, summary=f"{pkg.summary} (part of {pkg.name}: files under "
            f"{posixpath.dirname(group[0].path)})",
            description=f"Files of {pkg.name} split into their own package to keep each RPM "
            "header well under rpm 4.11's 16 MiB limit. Installed, upgraded and removed "
            f"together with {pkg.name}.",
            license=pkg.license, group=pkg.group, url=pkg.url, vendor=pkg.vendor,
            packager=pkg.packager, buildhost=pkg.buildhost, files=group,
            requires=[Dependency(pkg.name, exact, evr)]))
    for p in out:
        got = header_size(p)
        if got > budget:
            raise BuildError(f"{p.name}: header data would still be {got} bytes after the "
                             f"split (budget {budget})")
    return out


def _cost(entries: list[FileEntry]) -> int:
    dirs = {e.path[:e.path.rindex("/") + 1] for e in entries}
    return sum(map(entry_cost, entries)) + sum(len(d) + 1 for d in dirs)


def _subtree_costs(entries: list[FileEntry]) -> dict[str, int]:
    """Cost of every directory's subtree (the directory's own entry included)."""
    costs: dict[str, int] = {}
    for e in entries:
        c = entry_cost(e)
        if e.kind == "dir":
            c += len(e.path) + 2  # its path is its children's DIRNAMES entry
        p = e.path
        while p:
            costs[p] = costs.get(p, 0) + c
            p = p[:p.rindex("/")]
    return costs


def _split_dir(entries: list[FileEntry]) -> str:
    """Follow the dominant subtree down: the first directory no child of which holds more
    than half of it (``site-packages`` in a venv: many packages, none dominant)."""
    costs = _subtree_costs(entries)
    children: dict[str, list[str]] = {}
    for p in costs:
        children.setdefault(p[:p.rindex("/")], []).append(p)
    node = ""
    while True:
        kids = [k for k in children.get(node, []) if k in children]  # directories
        if not kids:
            return node or "/"
        top = max(sorted(kids), key=lambda k: costs[k])
        if costs[top] * 2 <= costs.get(node, sum(costs[k] for k in children[node])):
            return node or "/"
        node = top


def _pack(entries: list[FileEntry], split_dir: str, capacity: int) -> list[list[FileEntry]]:
    """Greedy, in name order: the children of ``split_dir`` (a child too big for one part
    is divided into its own children) packed into groups of at most ``capacity``."""
    root = "" if split_dir == "/" else split_dir
    costs = _subtree_costs(entries)
    children: dict[str, list[str]] = {}
    for p in costs:
        children.setdefault(p[:p.rindex("/")], []).append(p)
    units: list[str] = []

    def expand(node: str) -> None:
        for kid in sorted(children.get(node, [])):
            if costs[kid] > capacity and kid in children:
                expand(kid)  # the directory entry itself stays with the parent
            else:
                units.append(kid)

    expand(root)
    units = [u for u in units if costs[u] <= capacity]  # a single entry is < 8 KiB
    # Balanced rather than first-full: as many parts as needed, each about the same size,
    # so every part keeps room to grow.
    total = sum(costs[u] for u in units)
    count = max(1, -(-total // capacity))
    target = min(capacity, -(-total // count) + max((costs[u] for u in units), default=0))
    groups: list[list[str]] = [[]]
    room = target
    for unit in units:
        if costs[unit] > room and groups[-1]:
            groups.append([])
            room = target
        groups[-1].append(unit)
        room -= costs[unit]
    owner: dict[str, int] = {u: i for i, g in enumerate(groups) for u in g}
    members: list[list[FileEntry]] = [[] for _ in groups]
    for e in entries:
        p = e.path
        while p and p not in owner:
            p = p[:p.rindex("/")]
        if p:
            members[owner[p]].append(e)
    return [m for m in members if m]


def _part_name(name: str, label: str, used: set[str]) -> str:
    for i in range(10**4):
        letters = string.ascii_lowercase
        suffix = letters[i] if i < 26 else f"{letters[i // 26 - 1]}{letters[i % 26]}"
        candidate = f"{name}-{label}-{suffix}"
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise AssertionError("unreachable: more than 10^4 parts")

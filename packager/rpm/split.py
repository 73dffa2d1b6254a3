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
from array import array
from dataclasses import replace

from packager.rpm import tags as t
from packager.rpm.filetable import FileTable
from packager.rpm.model import Dependency, Package
from packager.rpm.writer import BuildError, header_size

#: Header data budget per package; see the module docstring for why 12 MiB.
BUDGET = 12 << 20
#: Bytes every file entry costs in the file tags besides its strings: nine 32/16-bit arrays
#: (sizes, modes, rdevs, mtimes, flags, verifyflags, devices, inodes, dirindexes), and the
#: NUL of the lang string.
_FIXED = 4 + 2 + 2 + 4 + 4 + 4 + 4 + 4 + 4 + 1
_LABEL = re.compile(r"[^A-Za-z0-9._+]+")


def split_package(pkg: Package, budget: int = BUDGET) -> list[Package]:
    """``[pkg]`` when its header fits ``budget``, else ``[parent, part-a, part-b, ...]``.

    Works on the entries' columns (packager.rpm.filetable): no object per file, so the
    split of a 10^5-file venv costs about what its table does.
    """
    size = header_size(pkg)
    if size <= budget:
        return [pkg]
    empty = header_size(replace(pkg, files=[]))
    capacity = budget - empty - 4096  # room for alignment and the parts' own metadata
    table = FileTable.of(pkg.files)
    remaining = array("I", range(len(table)))
    # (name, entries in columns, the directory its first entry is in)
    parts: list[tuple[str, FileTable, str]] = []
    used: set[str] = set()
    while True:
        nodes = _Nodes(table, remaining)
        if nodes.total_cost() <= capacity:
            break
        split_dir = nodes.split_dir()
        groups = nodes.pack(split_dir, capacity)
        if not groups:
            raise BuildError(
                f"{pkg.name}: header data would be {size} bytes for {len(table)} files and "
                f"no subtree can be split off to stay under {budget} bytes")
        label = _LABEL.sub("-", posixpath.basename(split_dir) or "root").strip("-") or "root"
        moved = bytearray(len(table))  # a flag per entry: a set of ints is ~60 bytes each
        for group in groups:
            first = min(group, key=table.path)
            parts.append((_part_name(pkg.name, label, used), table.take(group),
                          posixpath.dirname(table.path(first))))
            for i in group:
                moved[i] = 1
        remaining = array("I", (i for i in remaining if not moved[i]))
    evr = pkg.evr
    exact = t.SENSE_EQUAL
    parent = replace(pkg, files=table.take(remaining), requires=[
        *pkg.requires, *(Dependency(name, exact, evr) for name, _, _ in parts)])
    del remaining, nodes
    out = [parent]
    for name, group, where in parts:
        out.append(Package(
            name=name, version=pkg.version, release=pkg.release, epoch=pkg.epoch,
            arch=pkg.arch, summary=f"{pkg.summary} (part of {pkg.name}: files under "
            f"{where})",
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


def _parent(p: str) -> str:
    return p[:p.rindex("/")]


class _Nodes:
    """The subtree costs of some entries of a table: every directory prefix of their paths
    (a dict over directories, about one per 12 files) and, per directory, its entries that
    are not directories (index arrays). A node is a path; a directory's cost includes its own
    entry (and its DIRNAMES string) and everything below it."""

    def __init__(self, table: FileTable, indexes: array) -> None:
        self.table = table
        self.indexes = indexes
        who = [len(o) + 1 + len(g) + 1 for o, g in table.owners]
        per_dir: dict[int, int] = {}
        self.sub: dict[str, int] = {}  # directory node -> subtree cost
        self.files_in: dict[str, array] = {}  # directory node -> its non-dir entries
        self.cost = array("I", bytes(4 * len(table)))  # entry -> its own bytes (entry_cost)
        self.entries_cost = self.all_cost = 0  # sums of entry costs; + directories' strings
        kinds, flags, dir_of, links = table.kinds, table.flags, table.dir_of, table.links
        for i in indexes:
            regular = kinds[i] == 0 and not flags[i] & t.FILE_GHOST
            c = (_FIXED + (65 if regular else 1) + len(table.name(i)) + 1
                 + len(links.get(i, "").encode("utf-8", "surrogateescape")) + 1
                 + who[table.who[i]])
            self.cost[i] = c
            self.entries_cost += c
            if kinds[i] == 1:
                path = table.path(i)
                c += len(path) + 2  # its path is its children's DIRNAMES entry
                self.sub[path] = self.sub.get(path, 0) + c
            else:
                self.files_in.setdefault(table.dirs[dir_of[i]][:-1], array("I")).append(i)
            self.all_cost += c
            per_dir[dir_of[i]] = per_dir.get(dir_of[i], 0) + c
        self.parents: set[str] = {""}
        for d, c in per_dir.items():
            p = table.dirs[d][:-1]
            self.parents.add(p)
            while p:
                self.sub[p] = self.sub.get(p, 0) + c
                p = _parent(p)
                self.parents.add(p)
        self.dir_kids: dict[str, list[str]] = {}
        for p in self.sub:
            self.dir_kids.setdefault(_parent(p), []).append(p)
        self._dirs = per_dir

    def total_cost(self) -> int:
        """What the file tags of these entries weigh (the same sum as the header's)."""
        return self.entries_cost + sum(len(self.table.dirs[d]) + 1 for d in self._dirs)

    def node_cost(self, node: str) -> int:
        return self.sub[node] if node in self.sub else self.all_cost

    def split_dir(self) -> str:
        """Follow the dominant subtree down: the first directory no child of which holds
        more than half of it (``site-packages`` in a venv: many packages, none dominant)."""
        node = ""
        while True:
            kids = [k for k in self.dir_kids.get(node, []) if k in self.parents]
            if not kids:
                return node or "/"
            top = max(sorted(kids), key=lambda k: self.sub[k])
            if self.sub[top] * 2 <= self.node_cost(node):
                return node or "/"
            node = top

    def _children(self, node: str) -> list[tuple[str, int]]:
        """(path, entry index or -1 for a directory node) of every child node, by path."""
        kids = [(k, -1) for k in self.dir_kids.get(node, [])]
        kids += [(self.table.path(i), i) for i in self.files_in.get(node, ())]
        return sorted(kids)

    def pack(self, split_dir: str, capacity: int) -> list[array]:
        """Greedy, in name order: the children of ``split_dir`` (a child too big for one part
        is divided into its own children) packed into groups of at most ``capacity``."""
        root = "" if split_dir == "/" else split_dir
        units: list[tuple[str, int, int]] = []  # (path, entry or -1, cost)

        def expand(node: str) -> None:
            for kid, entry in self._children(node):
                cost = self.cost[entry] if entry >= 0 else self.sub[kid]
                if cost > capacity and entry < 0 and kid in self.parents:
                    expand(kid)  # the directory entry itself stays with the parent
                else:
                    units.append((kid, entry, cost))

        expand(root)
        units = [u for u in units if u[2] <= capacity]  # a single entry is < 8 KiB
        # Balanced rather than first-full: as many parts as needed, each about the same
        # size, so every part keeps room to grow.
        total = sum(u[2] for u in units)
        count = max(1, -(-total // capacity))
        target = min(capacity, -(-total // count) + max((u[2] for u in units), default=0))
        groups: list[list[tuple[str, int, int]]] = [[]]
        room = target
        for unit in units:
            if unit[2] > room and groups[-1]:
                groups.append([])
                room = target
            groups[-1].append(unit)
            room -= unit[2]
        owner_dir: dict[str, int] = {}
        owner_entry: dict[int, int] = {}
        for g, group in enumerate(groups):
            for path, entry, _ in group:
                if entry >= 0:
                    owner_entry[entry] = g
                else:
                    owner_dir[path] = g
        # entry indexes as arrays (4 bytes each), not lists of ints (36)
        members: list[array] = [array("I") for _ in groups]
        table = self.table
        for i in self.indexes:
            if i in owner_entry:
                members[owner_entry[i]].append(i)
                continue
            p = table.path(i) if table.kinds[i] == 1 else table.dirs[table.dir_of[i]][:-1]
            while p and p not in owner_dir:
                p = _parent(p)
            if p:
                members[owner_dir[p]].append(i)
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

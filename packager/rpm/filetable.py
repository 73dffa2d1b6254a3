"""A package's payload entries in columns: about 70 bytes per path instead of ~480.

A venv has 10^5 paths and the writer must know all of them before the payload (the header
carries every file's size, mode and digest). As :class:`FileEntry` tuples they cost ~480
bytes each (a tuple, its path and source strings, boxed ints); issue #12 measured 1.3 KB
per path at the writer's peak. Here each column is one ``array`` or ``bytearray``:

- basenames: one bytearray of NUL-terminated UTF-8 (surrogateescape) names + offsets;
- directories: each distinct one stored once, an index per entry;
- sources: a tree's files share one (target prefix, source prefix) pair: the source of
  ``/data/x/a/b`` below ``dst=/data/x``, ``src=/stage/x`` is ``/stage/x`` + ``/a/b``;
- kind, mode, flags, mtime, owner/group: small integer arrays; symlink targets (few) in
  a dict.

It is a sequence of :class:`FileEntry` (made on access), so code that iterates entries
works unchanged; the writer reads the columns directly.
"""

from __future__ import annotations

import os
from array import array
from typing import Iterable, Iterator, overload

from packager.rpm.model import FileEntry

KINDS = ("file", "dir", "symlink")
_KIND = {k: i for i, k in enumerate(KINDS)}
_NO_MODE = -1
_NO_MTIME = -(1 << 63)


class FileTable:
    """Entries in insertion order; ``FileTable(entries)`` or :meth:`add`."""

    def __init__(self, entries: Iterable[FileEntry] = ()) -> None:
        self.dirs: list[str] = []  # distinct directory parts, each ending in "/"
        self._dir_ids: dict[str, int] = {}
        self.names = bytearray()  # basenames, each followed by NUL
        self.name_at = array("I")  # offset of each entry's basename in ``names``
        self.dir_of = array("I")
        self.kinds = array("B")
        self._modes = array("i")
        self.flags = array("I")
        self._mtimes = array("q")
        self.who = array("H")  # index into ``owners``
        self.owners: list[tuple[str, str]] = []
        self._owner_ids: dict[tuple[str, str], int] = {}
        self._src = array("I")  # 0: no source, else index into ``_bases``
        self._bases: list[tuple[int, str]] = [(0, "")]  # (target chars dropped, prefix)
        self._base_ids: dict[tuple[int, str], int] = {}
        self.links: dict[int, str] = {}
        for e in entries:
            self.append(e)

    @classmethod
    def of(cls, files: Iterable[FileEntry]) -> FileTable:
        return files if isinstance(files, FileTable) else cls(files)

    # ------------------------------------------------------------------ building

    def base(self, target_prefix: str, source_prefix: str) -> int:
        """A source base: entries added with it get ``source_prefix`` + the rest of their
        path after ``target_prefix`` (only its length counts)."""
        key = (len(target_prefix), os.fspath(source_prefix))
        found = self._base_ids.get(key)
        if found is None:
            found = self._base_ids[key] = len(self._bases)
            self._bases.append(key)
        return found

    def add(self, path: str, kind: str = "file", base: int = 0, link_target: str = "",
            mode: int | None = None, owner: str = "root", group: str = "root",
            mtime: int | None = None, flags: int = 0) -> None:
        cut = path.rindex("/") + 1
        self.dir_of.append(self._dir_id(path[:cut]))
        self.name_at.append(len(self.names))
        self.names += path[cut:].encode("utf-8", "surrogateescape") + b"\0"
        self.kinds.append(_KIND[kind])
        self._modes.append(_NO_MODE if mode is None else mode)
        self.flags.append(flags)
        self._mtimes.append(_NO_MTIME if mtime is None else mtime)
        self.who.append(self._owner_id((owner, group)))
        self._src.append(base)
        if link_target:
            self.links[len(self.kinds) - 1] = link_target

    def append(self, e: FileEntry) -> None:
        base = self.base(e.path, os.fspath(e.source)) if e.source is not None else 0
        self.add(e.path, e.kind, base, e.link_target, e.mode, e.owner, e.group, e.mtime,
                 e.flags)

    def extend(self, entries: Iterable[FileEntry]) -> None:
        if not isinstance(entries, FileTable):
            for e in entries:
                self.append(e)
            return
        other, start = entries, len(self)
        dir_map = array("I", (self._dir_id(d) for d in other.dirs))
        base_map = array("I", (0 if not i else self.base("x" * drop, prefix)
                               for i, (drop, prefix) in enumerate(other._bases)))
        who_map = array("H", (self._owner_id(o) for o in other.owners))
        shift = len(self.names)
        self.names += other.names
        self.name_at.extend(at + shift for at in other.name_at)
        self.dir_of.extend(dir_map[d] for d in other.dir_of)
        self._src.extend(base_map[b] for b in other._src)
        self.who.extend(who_map[w] for w in other.who)
        self.kinds.extend(other.kinds)
        self._modes.extend(other._modes)
        self.flags.extend(other.flags)
        self._mtimes.extend(other._mtimes)
        self.links.update((start + i, target) for i, target in other.links.items())

    def _dir_id(self, d: str) -> int:
        found = self._dir_ids.get(d)
        if found is None:
            found = self._dir_ids[d] = len(self.dirs)
            self.dirs.append(d)
        return found

    def _owner_id(self, owner: tuple[str, str]) -> int:
        found = self._owner_ids.get(owner)
        if found is None:
            found = self._owner_ids[owner] = len(self.owners)
            self.owners.append(owner)
        return found

    def take(self, indexes: Iterable[int]) -> FileTable:
        """A new table of the entries at ``indexes``, in that order (columns copied)."""
        out = FileTable()
        out.dirs, out._dir_ids = list(self.dirs), dict(self._dir_ids)
        out.owners, out._owner_ids = list(self.owners), dict(self._owner_ids)
        out._bases, out._base_ids = list(self._bases), dict(self._base_ids)
        names, name_at = self.names, self.name_at
        for i in indexes:
            start = name_at[i]
            out.name_at.append(len(out.names))
            out.names += names[start:names.index(0, start) + 1]
            out.dir_of.append(self.dir_of[i])
            out.kinds.append(self.kinds[i])
            out._modes.append(self._modes[i])
            out.flags.append(self.flags[i])
            out._mtimes.append(self._mtimes[i])
            out.who.append(self.who[i])
            out._src.append(self._src[i])
            if i in self.links:
                out.links[len(out.kinds) - 1] = self.links[i]
        return out

    def __iadd__(self, entries: Iterable[FileEntry]) -> FileTable:
        self.extend(entries)
        return self

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.kinds)

    def name_bytes(self, i: int) -> bytes:
        start = self.name_at[i]
        return bytes(self.names[start:self.names.index(0, start)])

    def name(self, i: int) -> str:
        return self.name_bytes(i).decode("utf-8", "surrogateescape")

    def path(self, i: int) -> str:
        return self.dirs[self.dir_of[i]] + self.name(i)

    def path_bytes(self, i: int) -> bytes:
        return self.dirs[self.dir_of[i]].encode("utf-8", "surrogateescape") + self.name_bytes(i)

    def source(self, i: int) -> str | None:
        b = self._src[i]
        if not b:
            return None
        drop, prefix = self._bases[b]
        return prefix + self.path(i)[drop:]

    def kind(self, i: int) -> str:
        return KINDS[self.kinds[i]]

    def mode(self, i: int) -> int | None:
        m = self._modes[i]
        return None if m == _NO_MODE else m

    def perm(self, i: int) -> int:
        m = self._modes[i]
        if m != _NO_MODE:
            return m
        return 0o755 if self.kinds[i] == 1 else 0o644

    def mtime(self, i: int) -> int | None:
        m = self._mtimes[i]
        return None if m == _NO_MTIME else m

    def entry(self, i: int) -> FileEntry:
        owner, group = self.owners[self.who[i]]
        return FileEntry(self.path(i), KINDS[self.kinds[i]], self.source(i),
                         self.links.get(i, ""), self.mode(i), owner, group, self.mtime(i),
                         self.flags[i])

    @overload
    def __getitem__(self, i: int) -> FileEntry: ...

    @overload
    def __getitem__(self, i: slice) -> list[FileEntry]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.entry(j) for j in range(len(self))[i]]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.entry(i)

    def __iter__(self) -> Iterator[FileEntry]:
        return (self.entry(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (FileTable, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def sorted_order(self) -> array:
        """Entry indexes in the order of their paths' bytes (the header's order)."""
        n = len(self)
        order = array("I", range(n))
        if all(self._le(order[i - 1], order[i]) for i in range(1, n)):
            return order  # already sorted: no key per entry
        return array("I", sorted(range(n), key=self.path_bytes))

    def _le(self, a: int, b: int) -> bool:
        return self.path_bytes(a) <= self.path_bytes(b)

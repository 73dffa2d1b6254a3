"""Rule 20: every absolute symlink and every ``#!`` interpreter resolves on CentOS 7.

A venv made against the build host's Python links ``bin/python3.11 -> /usr/bin/python3.11``;
installed on CentOS 7 the link dangles and the service fails with ``status=203/EXEC``, and
no other check notices, because the RPM installs fine. So each pointer out of a file (an
absolute symlink target, the interpreter of a ``#!`` line and the command
``/usr/bin/env`` is asked to find) must land on a file of

- the same RPM;
- another RPM of the set that this one requires (directly or through what it requires);
- a CentOS 7 package (``specs/el7/os-paths.txt``): one every @core install has, or one
  of the bundle's OS closure that the RPM requires (by name or by the path).

Chains are followed (``venv/bin/python3 -> /…/miniconda3/bin/python3 -> python3.6``), also
through symlinked directories, and ``/bin`` reads as ``/usr/bin`` as on CentOS 7.
"""

from __future__ import annotations

import posixpath
import shlex
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from packager import resources
from packager.lint.finding import Finding
from packager.rpm import tags as t
from packager.rpm.reader import RpmFile

OS_PATHS_FILE = resources.el7() / "os-paths.txt"
#: usrmove: on CentOS 7 these are symlinks into /usr (package filesystem).
_MERGED = {"/bin": "/usr/bin", "/sbin": "/usr/sbin", "/lib": "/usr/lib", "/lib64": "/usr/lib64"}
_MAX_HOPS = 40
_S_IFMT, _S_IFLNK = 0o170000, 0o120000


@dataclass(frozen=True)
class OsPath:
    package: str
    core: bool


class PathSet:
    """Paths, sorted, in one buffer: membership by binary search.

    Every package's files are held from its first read to the end of the lint (the rule
    looks a target up in the whole set). As a ``set`` of ``str`` that was ~250 bytes a
    path, 38 MiB for the real release's 160k; here it is the UTF-8 bytes and 4 more.
    """

    __slots__ = ("_blob", "_starts")

    def __init__(self, paths: Iterable[str]) -> None:
        ordered = sorted({p.encode("utf-8", "surrogateescape") for p in paths})
        self._starts = array("I")
        at = 0
        for p in ordered:
            self._starts.append(at)
            at += len(p) + 1
        self._blob = b"\0".join(ordered) + b"\0"

    def __len__(self) -> int:
        return len(self._starts)

    def _item(self, i: int) -> bytes:
        start = self._starts[i]
        return self._blob[start:self._blob.index(b"\0", start)]

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        key = path.encode("utf-8", "surrogateescape")
        lo, hi = 0, len(self._starts)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._item(mid) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo < len(self._starts) and self._item(lo) == key


@dataclass
class LinkPackage:
    """What the rule needs of one RPM: its names, requires, files, links and ``#!`` lines.
    ``files`` holds the canonical form of each path (``/bin`` read as ``/usr/bin``)."""

    label: str
    name: str
    provides: set[str]
    requires: set[str]
    files: PathSet
    links: dict[str, str]
    foreign: bool = False
    shebangs: dict[str, str] = field(default_factory=dict)  # executable path -> "#!..." line

    @classmethod
    def from_rpm(cls, label: str, rpm: RpmFile, foreign: bool) -> LinkPackage:
        modes = rpm.header.array(t.FILEMODES)
        targets = rpm.header.array(t.FILELINKTOS)
        links = {n: to for n, m, to in zip(rpm.iter_filenames(), modes, targets)
                 if (m & _S_IFMT) == _S_IFLNK and to}
        files = PathSet(map(_canonical, rpm.iter_filenames()))
        return cls(label, rpm.name, {d for d, _, _ in rpm.deps("provides")},
                   {d for d, _, _ in rpm.deps("requires")}, files, links, foreign)


def load_os_paths(path: Path = OS_PATHS_FILE) -> dict[str, OsPath]:
    out = {}
    for line in resources.read_list(path):
        target, package, scope = line.split()
        out[target] = OsPath(package, scope == "core")
    return out


def shebang_targets(line: str) -> list[tuple[str, str]]:
    """(what, path or command) pairs of a ``#!`` line: the interpreter, and for
    ``/usr/bin/env [-S] [VAR=x] CMD`` the command it looks up on PATH."""
    try:
        words = shlex.split(line[2:].strip())
    except ValueError:
        words = line[2:].split()
    if not words:
        return []
    out = [("interpreter", words[0])]
    if posixpath.basename(words[0]) == "env":
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if rest:
            out.append(("env command", rest[0]))
    return out


def _canonical(path: str) -> str:
    path = posixpath.normpath(path)
    for old, new in _MERGED.items():
        if path == old or path.startswith(old + "/"):
            return new + path[len(old):]
    return path


class _Set:
    """All files and links of the packages checked together."""

    def __init__(self, packages: list[LinkPackage]) -> None:
        self.packages = packages
        self.links: dict[str, str] = {}
        for pkg in packages:
            for name, to in pkg.links.items():
                self.links[_canonical(name)] = to
        self.by_provide: dict[str, list[LinkPackage]] = {}
        for pkg in packages:
            for name in {pkg.name, *pkg.provides}:
                self.by_provide.setdefault(name, []).append(pkg)

    def owners(self, path: str) -> list[LinkPackage]:
        """The packages that ship ``path`` (canonical), in the order they were given."""
        return [pkg for pkg in self.packages if path in pkg.files]

    def resolve(self, path: str) -> str | None:
        """Follow symlinks of the set (the path's own and its directories'); None on a loop."""
        path = _canonical(path)
        for _ in range(_MAX_HOPS):
            parts = path.strip("/").split("/")
            for i in range(1, len(parts) + 1):
                prefix = "/" + "/".join(parts[:i])
                to = self.links.get(prefix)
                if to is not None:
                    base = to if to.startswith("/") else posixpath.join(
                        posixpath.dirname(prefix), to)
                    path = _canonical(posixpath.join(base, *parts[i:]))
                    break
            else:
                return path
        return None

    def required(self, pkg: LinkPackage) -> tuple[set[str], set[int]]:
        """Names ``pkg`` requires, directly or through the packages of the set it requires,
        and the ids of those packages."""
        names: set[str] = set()
        seen = {id(pkg)}
        todo = [pkg]
        while todo:
            current = todo.pop()
            for dep in current.requires:
                names.add(dep)
                for other in self.by_provide.get(dep, []):
                    if id(other) not in seen:
                        seen.add(id(other))
                        todo.append(other)
        return names, seen


def check_links(packages: list[LinkPackage],
                os_paths: dict[str, OsPath] | None = None) -> list[Finding]:
    """Rule 20 over the non-foreign packages, with every package given as the set."""
    os_paths = load_os_paths() if os_paths is None else os_paths
    world = _Set(packages)
    findings = []
    for pkg in packages:
        if pkg.foreign:
            continue
        names, reached = world.required(pkg)
        pointers = [(path, "symlink", to) for path, to in sorted(pkg.links.items())
                    if to.startswith("/")]
        for path, line in sorted(pkg.shebangs.items()):
            pointers += [(path, what, target) for what, target in shebang_targets(line)]
        for path, what, target in pointers:
            problem = _problem(pkg, what, target, world, names, reached, os_paths)
            if problem:
                findings.append(Finding("20", f"{pkg.label}:{path}", problem))
    return findings


def _problem(pkg: LinkPackage, what: str, target: str, world: _Set, names: set[str],
             reached: set[int], os_paths: dict[str, OsPath]) -> str | None:
    candidates = [target] if "/" in target else [f"/usr/bin/{target}", f"/usr/local/bin/{target}"]
    shown = f"{what} {target}"
    for candidate in candidates:
        final = world.resolve(candidate)
        if final is None:
            return f"{shown}: symlink loop"
        owners = world.owners(final)
        if any(o is pkg for o in owners):
            return None
        if any(id(o) in reached for o in owners):
            return None
        os_path = os_paths.get(final)
        if os_path and (os_path.core or os_path.package in names or final in names
                        or candidate in names):
            return None
        if owners:
            return f"{shown} is in {owners[0].name}, which {pkg.name} does not require"
        if os_path:
            return (f"{shown} is in CentOS 7's {os_path.package}, which {pkg.name} does not "
                    f"require")
    return (f"{shown}: no RPM of the set and no CentOS 7 @core or bundled OS package "
            f"provides {candidates[0] if len(candidates) == 1 else target}")

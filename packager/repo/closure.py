"""Compute which OS packages the bundle must carry: the dependency closure of our RPMs.

The target is a minimal CentOS 7 (the ``@core`` group, ``specs/el7/core-packages.txt``)
with no network. Everything our packages need beyond that must be in the bundle, or
``yum install`` fails exactly like AnsibleFATE#25 ("No package snappy-devel available").

The model is yum's, simplified where our inputs allow it:

* **Base**: the core names and what they pull in, as installed from the release media:
  each at the *oldest* EVR the repositories hold (the "os" repo is the GA media; "updates"
  only adds newer builds). A requirement the base already satisfies costs nothing.
* **Choice**: among the providers of a requirement, per package name the newest EVR
  (rpm's ordering, :mod:`packager.repo.vercmp`) whose Provides satisfy the range; across
  names, the one named like the requirement, then the shortest name, then alphabetical
  (yum prefers the shortest name too). Only ``x86_64`` and ``noarch``: never ``i686``.
* **Obsoletes**: a chosen package that a package in the repos obsoletes is replaced by
  the obsoleting one (when that still satisfies the requirement), as yum does.
* **Upgrades**: when a requirement needs a newer build of a base package, the newer one
  goes in the bundle, and base packages that pinned the old build (``glibc-common``
  requires ``glibc = 2.17-317.el7``) are upgraded with it.
* **Files**: ``/bin/sh`` and ``/usr/bin/python3`` resolve through primary.xml's file list.

Every package in the result carries ``why``: the chain of requirements that pulled it in.
An unresolvable requirement raises one error naming each chain, e.g.
``fate-mysql → libaio.so.1()(64bit) → nothing provides it``.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

from packager import resources
from packager.errors import UserError
from packager.repo.metadata import Dep, Located, Repo, RepoPackage
from packager.repo.vercmp import EVR, evr_compare, evr_key, satisfies
from packager.rpm import tags as t
from packager.rpm.model import Dependency

#: Architectures a CentOS 7 x86_64 host installs for us.
ARCHES = ("x86_64", "noarch")
ARROW = " → "
#: Unresolvable chains named in the error; one missing base library can break hundreds.
MAX_REPORTED = 10
#: Where the base set lives in the source tree.
CORE_PACKAGES = resources.el7() / "core-packages.txt"


class UnresolvedDependency(UserError):
    """At least one requirement has no provider in the repositories."""


@dataclass(frozen=True, order=True)
class Requirement:
    """Something one of our packages needs; ``origin`` is the package that needs it."""

    origin: str
    dep: Dependency


@dataclass(frozen=True)
class ClosurePackage(Located):
    """One OS package the bundle carries, and why."""

    name: str
    evr: str
    arch: str
    url: str
    sha256: str
    size: int
    repo: str
    why: tuple[str, ...]

    @property
    def reason(self) -> str:
        return ARROW.join(self.why)


@dataclass(frozen=True)
class Closure:
    """The resolved OS package set, sorted by name; ``base`` is what was assumed present."""

    packages: tuple[ClosurePackage, ...]
    base: tuple[str, ...]
    repos: tuple[str, ...]

    @property
    def size(self) -> int:
        return sum(p.size for p in self.packages)

    def as_dict(self) -> dict:
        return {"repos": list(self.repos), "base": list(self.base),
                "packages": [dict(asdict(p), why=list(p.why)) for p in self.packages]}

    def save(self, path: Path) -> None:
        """Write as JSON atomically: the build reads it offline."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.as_dict(), indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Closure:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            pkgs = tuple(ClosurePackage(**dict(p, why=tuple(p["why"])))
                         for p in data["packages"])
            return cls(pkgs, tuple(data["base"]), tuple(data["repos"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}: not a closure written by fate-pkg fetch: {exc}") from None


def load_base(path: Path = CORE_PACKAGES) -> tuple[str, ...]:
    """Package names from a base list: one per line, ``#`` comments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the base package list: {exc.strerror}") from None
    names = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if any(c.isspace() for c in text):
            raise UserError(f"{path}:{number}: {text!r}: one package name per line")
        names.append(text)
    return tuple(sorted(set(names)))


def _dep(dependency: Dependency) -> Dep:
    sense = dependency.flags & t.SENSE_MASK
    evr = EVR.parse(dependency.version) if sense and dependency.version else None
    return (dependency.name, sense if evr else 0, evr)


def dep_text(dep: Dep) -> str:
    name, sense, evr = dep
    if not sense or evr is None:
        return name
    op = {t.SENSE_LESS: "<", t.SENSE_LESS | t.SENSE_EQUAL: "<=", t.SENSE_EQUAL: "=",
          t.SENSE_GREATER | t.SENSE_EQUAL: ">=", t.SENSE_GREATER: ">"}.get(sense, "?")
    return f"{name} {op} {evr}"


def provides(pkg: RepoPackage, dep: Dep) -> bool:
    """Does ``pkg`` satisfy ``dep`` through its Provides or its (primary) file list?"""
    name, sense, evr = dep
    for pname, pflags, pevr in pkg.provides:
        if pname == name and satisfies(pflags, pevr, sense, evr):
            return True
    return name.startswith("/") and name in pkg.files


class Pool:
    """The installable packages of all repositories, indexed for lookups."""

    def __init__(self, repos: Sequence[Repo]) -> None:
        self.by_name: dict[str, list[RepoPackage]] = {}
        self.by_provide: dict[str, list[RepoPackage]] = {}
        self.by_file: dict[str, list[RepoPackage]] = {}
        self.obsoleters: dict[str, list[tuple[RepoPackage, Dep]]] = {}
        seen: set[tuple[str, EVR, str]] = set()
        for repo in repos:
            for pkg in repo.packages:
                key = (pkg.name, pkg.evr, pkg.arch)
                if pkg.arch not in ARCHES or key in seen:
                    continue  # the first repo listing a NEVRA wins
                seen.add(key)
                self.by_name.setdefault(pkg.name, []).append(pkg)
                for pname in {p[0] for p in pkg.provides}:
                    self.by_provide.setdefault(pname, []).append(pkg)
                for path in pkg.files:
                    self.by_file.setdefault(path, []).append(pkg)
                for obs in pkg.obsoletes:
                    self.obsoleters.setdefault(obs[0], []).append((pkg, obs))
        for versions in self.by_name.values():
            versions.sort(key=_pkg_order)

    def candidates(self, dep: Dep) -> list[RepoPackage]:
        name = dep[0]
        pool = list(self.by_provide.get(name, ()))
        if name.startswith("/"):
            pool += [p for p in self.by_file.get(name, ()) if p not in pool]
        return [p for p in pool if provides(p, dep)]

    def newest(self, name: str) -> RepoPackage | None:
        versions = self.by_name.get(name)
        return versions[-1] if versions else None

    def obsoleted_by(self, pkg: RepoPackage) -> list[RepoPackage]:
        """Packages (newest of their name) whose Obsoletes match ``pkg``'s name and EVR."""
        found = []
        for other, (_, sense, evr) in self.obsoleters.get(pkg.name, ()):
            if other.name == pkg.name or self.newest(other.name) is not other:
                continue
            if satisfies(t.SENSE_EQUAL, pkg.evr, sense, evr):
                found.append(other)
        return sorted(found, key=lambda p: (p.name, evr_key(p.evr)))


def _pkg_order(pkg: RepoPackage) -> tuple:
    """Oldest first; at equal EVR noarch before x86_64, so the last is the preferred one."""
    return (evr_key(pkg.evr), pkg.arch == "x86_64")


class _Resolver:
    def __init__(self, pool: Pool, base_names: Iterable[str]) -> None:
        self.pool = pool
        self.selected: dict[str, RepoPackage] = {}
        self.why: dict[str, tuple[str, ...]] = {}  # names in the closure (not base)
        self.absent_base: set[str] = set()
        self.failures: list[str] = []
        self._base(base_names)

    # -- the base: core names and their dependencies, oldest builds --------------------
    def _base(self, names: Iterable[str]) -> None:
        queue: deque[RepoPackage] = deque()
        for name in sorted(set(names)):
            versions = self.pool.by_name.get(name)
            if versions:
                pkg = min(versions, key=_pkg_order)
                self.selected[name] = pkg
                queue.append(pkg)
            else:
                self.absent_base.add(name)
        while queue:
            pkg = queue.popleft()
            for dep in pkg.requires:
                if self._satisfied(dep):
                    continue
                cands = self.pool.candidates(dep)
                if not cands:
                    continue  # the repos do not describe the whole base: assume it is there
                choice = self._choose(cands, dep, oldest=True)
                if choice.name not in self.selected:
                    self.selected[choice.name] = choice
                    queue.append(choice)

    # -- queries --------------------------------------------------------------------------
    def _satisfied(self, dep: Dep) -> bool:
        if dep[0] in self.absent_base:
            return True  # a base package the repos do not list: trust the base list
        return any(self.selected.get(p.name) is p for p in self.pool.candidates(dep))

    def _choose(self, cands: list[RepoPackage], dep: Dep, oldest: bool = False) -> RepoPackage:
        best: dict[str, RepoPackage] = {}
        for pkg in cands:
            have = best.get(pkg.name)
            if have is None or (_pkg_order(pkg) < _pkg_order(have) if oldest
                                else _pkg_order(pkg) > _pkg_order(have)):
                best[pkg.name] = pkg
        name = min(best, key=lambda n: (n != dep[0], len(n), n))
        return best[name]

    # -- the closure ---------------------------------------------------------------------
    def resolve(self, requirements: Iterable[Requirement]) -> None:
        queue: deque[tuple[Dep, tuple[str, ...]]] = deque()
        for req in sorted(set(requirements)):
            if req.dep.name.startswith("rpmlib("):
                continue
            queue.append((_dep(req.dep), (req.origin,)))
        while queue:
            dep, chain = queue.popleft()
            if self._satisfied(dep):
                continue
            chain = (*chain, dep_text(dep))
            cands = self.pool.candidates(dep)
            if not cands:
                hint = ""
                if dep[0].startswith("/"):
                    hint = (" (primary.xml lists only /etc, */bin/* and /usr/lib/sendmail: "
                            "require the package instead)")
                self.failures.append(ARROW.join((*chain, "nothing provides it" + hint)))
                continue
            pkg = self._replace_obsoleted(self._choose(cands, dep), dep)
            have = self.selected.get(pkg.name)
            if have is not None and pkg.name in self.why:
                self.failures.append(
                    f"{ARROW.join(chain)}: needs {pkg.nevra}, but {have.nevra} is already "
                    f"chosen for {ARROW.join(self.why[pkg.name])}")
                continue
            for follow in self._add(pkg, chain, replaces=have):
                queue.append(follow)

    def _replace_obsoleted(self, pkg: RepoPackage, dep: Dep) -> RepoPackage:
        seen = {pkg.name}
        while True:
            newer = [o for o in self.pool.obsoleted_by(pkg) if provides(o, dep)
                     and o.name not in seen]
            if not newer:
                return pkg
            pkg = newer[0]
            seen.add(pkg.name)

    def _add(self, pkg: RepoPackage, chain: tuple[str, ...],
             replaces: RepoPackage | None) -> list[tuple[Dep, tuple[str, ...]]]:
        """Select ``pkg``; return the requirements to look at next."""
        self.selected[pkg.name] = pkg
        self.why[pkg.name] = chain
        follow = [(dep, _extend(chain, pkg.name)) for dep in pkg.requires]
        if replaces is not None:
            follow += self._upgrade_dependents(replaces, pkg, chain)
        return follow

    def _upgrade_dependents(self, old: RepoPackage, new: RepoPackage,
                            chain: tuple[str, ...]) -> list[tuple[Dep, tuple[str, ...]]]:
        """Base packages that needed exactly ``old`` move to their newest build too.

        A bundled package that needed ``old`` gets its requirement looked at again (and
        reported as a conflict when only ``old`` would do).
        """
        follow: list[tuple[Dep, tuple[str, ...]]] = []
        for name in sorted(self.selected):
            user = self.selected[name]
            if user is new:
                continue
            for dep in user.requires:
                if not provides(old, dep) or provides(new, dep) or self._satisfied(dep):
                    continue
                if name in self.why:
                    follow.append((dep, _extend(self.why[name], name)))
                else:
                    newest = self.pool.newest(name)
                    if newest is not None and newest is not user:
                        why = (*chain, new.name, f"{user.nevra} needs {dep_text(dep)}")
                        follow += self._add(newest, why, replaces=user)
                    break
        return follow


def _extend(chain: tuple[str, ...], name: str) -> tuple[str, ...]:
    """``chain`` + the package name, unless the chain already ends with it ("a → tool")."""
    return chain if chain[-1] == name else (*chain, name)


def resolve(requirements: Iterable[Requirement], repos: Sequence[Repo],
            base: Iterable[str]) -> Closure:
    """The OS packages that ``requirements`` need beyond ``base``, from ``repos``."""
    resolver = _Resolver(Pool(repos), base)
    resolver.resolve(requirements)
    if resolver.failures:
        failures = sorted(set(resolver.failures))
        more = f"; and {len(failures) - MAX_REPORTED} more" if len(failures) > MAX_REPORTED else ""
        raise UnresolvedDependency("; ".join(failures[:MAX_REPORTED]) + more)
    chosen = []
    for name, why in resolver.why.items():
        pkg = resolver.selected[name]
        chosen.append(ClosurePackage(pkg.name, str(pkg.evr), pkg.arch, pkg.url, pkg.sha256,
                                     pkg.size, pkg.repo, why))
    chosen.sort(key=lambda p: (p.name, p.arch))
    base_set = sorted(pkg.nevra for name, pkg in resolver.selected.items()
                      if name not in resolver.why)
    return Closure(tuple(chosen), tuple(base_set), tuple(r.url for r in repos))


__all__ = ["ARCHES", "Closure", "ClosurePackage", "Pool", "Requirement",
           "UnresolvedDependency", "evr_compare", "load_base", "resolve"]

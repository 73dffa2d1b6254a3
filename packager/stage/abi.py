"""Will every ELF file in a staging tree load on CentOS 7? (el7 rule 18)

A binary built on a newer system links against newer symbol versions
(``__libc_start_main@GLIBC_2.34`` on Debian 12) and fails on CentOS 7's glibc 2.17 only
when someone starts it there. This check finds that at build time, the way auditwheel
checks manylinux2014 wheels, from two facts per file (read by ``packager.stage.elf``):

* symbol versions it needs from system libraries must not be newer than
  ``specs/el7/abi.yaml`` allows (GLIBC 2.17, GLIBCXX 3.4.19 ...). When the library that
  defines a version is shipped in the tree itself (conda's own libstdc++, say), the
  bundled copy's version definitions are what counts instead; glibc is never bundled;
* libraries it needs (``DT_NEEDED``) must come from the tree (any shared library file or
  SONAME in it, which is where RPATH/``$ORIGIN`` entries lead), from the package's
  dependencies (``provided``), or from the CentOS 7 base set
  (``specs/el7/base-sonames.txt``).

``allow`` takes fnmatch patterns on the file's path relative to the tree (the build's
``--allow-abi``) for files accepted knowingly, e.g. optional plugins that are never loaded.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from packager import resources
from packager.errors import UserError
from packager.onhost import yamlfile
from packager.stage.elf import ELF_MAGIC, ElfError, ElfInfo, read_elf

EL7_DIR = resources.el7()
EM_X86_64 = 62
_VERSION = re.compile(r"^([A-Za-z]+)_(\d+(?:\.\d+)*)$")


@dataclass(frozen=True, order=True)
class Violation:
    """One reason a file would not load on CentOS 7."""

    path: str  # relative to the checked tree
    kind: str  # "symbol-version" | "library" | "machine" | "unreadable"
    what: str  # the version name or library name
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"


@dataclass(frozen=True)
class Policy:
    """What CentOS 7 offers; loaded from ``specs/el7/`` so it is data, not code."""

    max_versions: dict[str, tuple[int, ...]]
    also_allowed: frozenset[str]
    forbidden: frozenset[str]
    base_sonames: frozenset[str]


def load_policy(el7_dir: Path = EL7_DIR) -> Policy:
    abi_file, sonames_file = el7_dir / "abi.yaml", el7_dir / "base-sonames.txt"
    try:
        data = yamlfile.read(str(abi_file))
        names = sonames_file.read_text(encoding="utf-8").splitlines()
    except (OSError, yamlfile.YamlFileError) as exc:
        raise UserError(f"the CentOS 7 ABI data in {el7_dir}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("max_versions"), dict):
        raise UserError(f"{abi_file}: max_versions: must be a mapping of prefix to version")
    maxima: dict[str, tuple[int, ...]] = {}
    for prefix, version in data["max_versions"].items():
        if not isinstance(version, str) or not re.fullmatch(r"\d+(\.\d+)*", version):
            raise UserError(f"{abi_file}: max_versions.{prefix}: {version!r} is not a "
                            "quoted dotted version like \"2.17\"")
        maxima[str(prefix)] = tuple(int(p) for p in version.split("."))
    base = frozenset(line.split("#", 1)[0].strip() for line in names) - {""}
    return Policy(maxima, frozenset(data.get("also_allowed") or ()),
                  frozenset(data.get("forbidden") or ()), base)


@dataclass
class ElfFile:
    """An ELF file read from a tree or a payload: its path (relative) and what it needs."""

    rel: str
    info: ElfInfo


def scan(root: Path) -> tuple[list[ElfFile], list[Violation], set[str]]:
    """All ELF files under ``root`` (symlinks not followed) and the library names present.

    One ``scandir`` per directory and one 4-byte read per regular file: the file type
    comes from the directory entry, not from a ``stat`` per file (10^5 files in a venv).
    """
    elves: list[ElfFile] = []
    broken: list[Violation] = []
    names: set[str] = set()
    base = os.fspath(root)
    stack = [(base, "")]
    while stack:
        top, rel_top = stack.pop()
        with os.scandir(top) as it:
            children = sorted(it, key=lambda d: d.name)
        subdirs = []
        for child in children:
            name = child.name
            if ".so" in name:
                names.add(name)  # lib files and their symlinks: what $ORIGIN paths reach
            if child.is_dir(follow_symlinks=False):
                subdirs.append((child.path, rel_top + name + "/"))
                continue
            if not child.is_file(follow_symlinks=False):
                continue
            rel = rel_top + name
            try:
                with open(child.path, "rb") as fh:
                    if fh.read(4) != ELF_MAGIC:
                        continue
                info = read_elf(Path(child.path))
            except (OSError, ElfError) as exc:
                broken.append(Violation(rel, "unreadable", name, f"cannot read ELF data: {exc}"))
                continue
            elves.append(ElfFile(rel, info))
            if info.soname:
                names.add(info.soname)
        stack.extend(reversed(subdirs))  # depth first, in name order, like os.walk
    return elves, broken, names


def sonames_in(root: Path) -> set[str]:
    """Library names a staged tree provides: for ``provided`` of packages that require it."""
    return scan(root)[2]


def check_tree(
    root: Path | str,
    *,
    provided: Iterable[str] = (),
    allow: Iterable[str] = (),
    policy: Policy | None = None,
    scanned: tuple[list[ElfFile], list[Violation], set[str]] | None = None,
) -> list[Violation]:
    """Every reason a file under ``root`` would not load on CentOS 7, sorted by path.

    ``scanned``: :func:`scan` of ``root`` already made (the build scans each tree once for
    both the names it provides and this check)."""
    root = Path(root)
    policy = policy or load_policy()
    provided = set(provided)
    elves, broken, in_tree = scanned if scanned is not None else scan(root)
    violations = list(broken)
    defined: dict[str, set[str]] = {}  # library name in the tree -> versions it defines
    for elf in elves:
        for name in {os.path.basename(elf.rel), elf.info.soname or ""} - {""}:
            defined.setdefault(name, set()).update(elf.info.version_defs)
    for elf in elves:
        violations.extend(check_file(elf, policy, provided, in_tree, defined))
    patterns = list(allow)
    kept = [v for v in violations
            if not any(fnmatch.fnmatch(v.path, pattern) for pattern in patterns)]
    return sorted(kept)


def check_file(elf: ElfFile, policy: Policy, provided: set[str], in_tree: set[str],
               defined: dict[str, set[str]]) -> Iterable[Violation]:
    """One file's violations; public so the lint can check ELF files streamed from a payload
    (``in_tree``: library names in the same package; ``defined``: versions they define)."""
    info = elf.info
    if not info.dynamic:
        return
    if info.machine != EM_X86_64 and (info.needed or info.version_needs):
        yield Violation(elf.rel, "machine", str(info.machine),
                        f"built for ELF machine {info.machine}, not x86_64 ({info.bits}-bit)")
    for lib in info.needed:
        name = os.path.basename(lib)
        if name in policy.base_sonames or name in provided or name in in_tree:
            continue
        yield Violation(elf.rel, "library", name,
                        f"needs {name}, which is neither in the package, in its "
                        "dependencies nor in the CentOS 7 base set")
    for lib, versions in sorted(info.version_needs.items()):
        for version in versions:
            problem = _version_problem(lib, version, policy, provided, defined)
            if problem:
                symbols = sorted(set(info.symbols.get(version, ())))
                shown = f" ({', '.join(symbols[:3])}{', ...' if len(symbols) > 3 else ''})" \
                    if symbols else ""
                yield Violation(elf.rel, "symbol-version", version,
                                f"needs {version}{shown} from {lib}: {problem}")


def _version_problem(lib: str, version: str, policy: Policy, provided: set[str],
                     defined: dict[str, set[str]]) -> str | None:
    if version in policy.forbidden:
        return "a private interface of one exact build"
    match = _VERSION.match(version)
    prefix = match.group(1) if match else None
    if prefix != "GLIBC" and lib in defined:
        if version in defined[lib]:
            return None
        return f"the copy of {lib} in the package does not define it"
    if lib in provided and prefix != "GLIBC":
        return None
    if version in policy.also_allowed or not match or prefix not in policy.max_versions:
        return None
    wanted = tuple(int(p) for p in match.group(2).split("."))
    limit = policy.max_versions[prefix]
    if wanted > limit:
        return f"CentOS 7 has only up to {prefix}_{'.'.join(map(str, limit))}"
    return None


def report(violations: list[Violation], limit: int = 50) -> str:
    """Human-readable lines for a CheckFailed message."""
    lines = [str(v) for v in violations[:limit]]
    if len(violations) > limit:
        lines.append(f"... and {len(violations) - limit} more")
    lines.append("accept knowingly with --allow-abi PATTERN (fnmatch on the path)")
    return "\n".join(lines)

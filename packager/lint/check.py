"""``check_paths``: the el7 lint over finished artifacts (RPMs, bundle dirs, tarballs).

Everything that can be decided from the files is checked here, one function per concern:
header rules (``header_rules``), the payload walked as a stream (this module: hardlinks,
ELF ABI, units, scripts, Python), scriptlets, repository metadata (``repodata``) and the
bundle's own scripts. The build calls :func:`check_paths` on its own output; the command
``fate-pkg check`` is a thin wrapper that prints the result.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import posixpath
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from packager.errors import UserError
from packager.lint import bundle, links, shell, units
from packager.lint.config import LintConfig, load_config
from packager.lint.finding import Finding
from packager.lint.header_rules import EL7_COMPRESSORS, check_header
from packager.lint.payload import Member, PayloadError, sniff, walk
from packager.lint.python import PythonSpool, is_python
from packager.lint.repodata import check_repo_file, check_repodata
from packager.rpm import tags as t
from packager.rpm.reader import NotAnRpm, RpmFile, read_rpm
from packager.stage import abi
from packager.stage.elf import ELF_MAGIC, ElfError, ElfInfo, read_elf

#: (unit text, target path) -> ["path:line: message", ...]
UnitLinter = Callable[[str, str], list[str]]
_HEAD = 4096
#: Scripts and unit files larger than this are not text we wrote; they are not read whole.
_MAX_TEXT = 4 << 20


@dataclass
class CheckOptions:
    """Knobs of one lint run (defaults: the project's data under ``specs/el7``)."""

    allow_abi: tuple[str, ...] = ()  # fnmatch patterns on target paths (like --allow-abi)
    directives_file: Path = units.DIRECTIVES_FILE
    config: LintConfig | None = None


@dataclass
class Summary:
    rpms: int = 0
    foreign: int = 0
    elf_files: int = 0
    scripts: int = 0
    python_files: int = 0
    unit_files: int = 0
    repos: int = 0


@dataclass
class _Package:
    """What the rules across packages read of one RPM. Not its decoded header: held for
    every package at once that was ~1.6 KB a path (314 MiB for the real release's 160k
    paths); each package's header is read again when that package is checked."""

    label: str
    path: Path
    name: str
    foreign: bool
    provides: set[str] = field(default_factory=set)
    requires: set[str] = field(default_factory=set)
    sonames: set[str] = field(default_factory=set)
    unit_files: list[str] = field(default_factory=list)
    has_preset: bool = False
    links: links.LinkPackage | None = None

    @classmethod
    def of(cls, label: str, path: Path, rpm: RpmFile, foreign: bool) -> _Package:
        sonames: set[str] = set()
        unit_files: list[str] = []
        has_preset = False
        for f in rpm.iter_filenames():  # one at a time: ~150 bytes a path as a list
            base = posixpath.basename(f)
            if ".so" in base:
                sonames.add(base)
            if f.startswith(units.UNIT_DIR) and units.is_unit_path(f):
                unit_files.append(f)
            has_preset = has_preset or (f.startswith(units.PRESET_DIR)
                                        and f.endswith(".preset"))
        return cls(label, path, rpm.name, foreign,
                   {rpm.name, *(d for d, _, _ in rpm.deps("provides"))},
                   {d for d, _, _ in rpm.deps("requires")}, sonames, unit_files, has_preset,
                   links.LinkPackage.from_rpm(label, rpm, foreign))


@dataclass
class _Collected:
    scripts: list[shell.Script] = field(default_factory=list)
    python: PythonSpool = field(default_factory=PythonSpool)  # on disk until checked


def check_paths(paths: Iterable[Path | str], options: CheckOptions | None = None,
                summary: Summary | None = None) -> list[Finding]:
    """Every el7 rule violation in ``paths`` (RPM files, directories, bundle tarballs).

    Raises :class:`UserError` for input that is not an artifact at all (a missing path,
    a file that is neither ``.rpm`` nor a bundle tarball) or a missing tool.
    """
    options = options or CheckOptions()
    config = options.config or load_config()
    summary = summary if summary is not None else Summary()
    findings: list[Finding] = []
    collected = _Collected()
    rpm_paths: list[tuple[str, Path]] = []
    with contextlib.ExitStack() as stack:
        stack.callback(collected.python.close)
        for raw in paths:
            path = Path(raw)
            if not os.path.lexists(path):
                raise UserError(f"{path}: no such file or directory")
            if path.is_file() and path.suffix == ".rpm":
                rpm_paths.append((str(path), path))
                continue
            if path.is_file() and not bundle.is_tarball(path):
                raise UserError(f"{path}: not an RPM, a bundle tarball (.tar) or a "
                                "directory")
            root = stack.enter_context(bundle.opened(path))
            label = str(path)
            for rpm in sorted(root.rglob("*.rpm")):
                if any(part.startswith(".") for part in rpm.relative_to(root).parts):
                    continue  # a build's temporary files (.fate-pkg-tmp), not artifacts
                rpm_paths.append((f"{label}/{rpm.relative_to(root)}", rpm))
            findings += _check_tree_extras(root, label, config, collected, summary)
        packages = []
        for label, path in rpm_paths:
            try:
                rpm = read_rpm(path)
            except (OSError, NotAnRpm, ValueError) as exc:
                findings.append(Finding("read", label, f"not a readable RPM: {exc}"))
                continue
            vendor = rpm.tag(t.VENDOR) or ""
            foreign = any(v.lower() in vendor.lower() for v in config.foreign_vendors)
            packages.append(_Package.of(label, path, rpm, foreign))
            del rpm
        summary.rpms += sum(not p.foreign for p in packages)
        summary.foreign += sum(p.foreign for p in packages)
        lint_unit: UnitLinter | None = None
        for pkg in packages:
            if pkg.foreign:
                continue
            try:
                rpm = read_rpm(pkg.path)
            except (OSError, NotAnRpm, ValueError) as exc:  # changed since the first read
                findings.append(Finding("read", pkg.label, f"not a readable RPM: {exc}"))
                continue
            findings += check_header(rpm, pkg.label)
            if pkg.unit_files and lint_unit is None:
                lint_unit = units.unit_linter(options.directives_file)
            findings += _check_payload(pkg, rpm, packages, options, config, collected,
                                       summary, lint_unit)
            findings += _check_scriptlets(pkg, rpm, collected)
            del rpm
        findings += _check_presets(packages)
        findings += links.check_links([p.links for p in packages if p.links])
        findings += shell.check_scripts(collected.scripts, config)
        findings += collected.python.check()
    summary.scripts = len(collected.scripts)
    summary.python_files = len(collected.python)
    return sorted(set(findings), key=_order)


def _order(f: Finding) -> tuple:
    return (f.artifact.split(":", 1)[0], int(f.rule) if f.rule.isdigit() else 99,
            f.artifact, f.message)


# ------------------------------------------------------------------------ bundles / dirs


def _check_tree_extras(root: Path, label: str, config: LintConfig, collected: _Collected,
                       summary: Summary) -> list[Finding]:
    """Repository metadata and the bundle's own shell scripts (install.sh)."""
    findings = []
    for repomd in sorted(root.rglob("repodata/repomd.xml")):
        repo = repomd.parent.parent
        summary.repos += 1
        rel = repo.relative_to(root)
        findings += check_repodata(repo, label if rel == Path(".") else f"{label}/{rel}")
    for repo_file in sorted(root.glob("*.repo")) + sorted(root.glob("*/*.repo")):
        key = (repo_file.parent / bundle.KEY_NAME).is_file()
        findings += check_repo_file(repo_file, f"{label}/{repo_file.relative_to(root)}", key)
    for script in sorted(root.rglob("*.sh")):
        rel = script.relative_to(root).as_posix()
        if len(script.relative_to(root).parts) > 2 or not config.shell_in_scope(rel):
            continue
        text = script.read_bytes()
        dialect = shell.shell_dialect(rel, text[:_HEAD]) or "bash"
        own = config.shell_is_own(rel)
        collected.scripts.append(shell.Script(
            f"{label}/{rel}", text.decode("utf-8", "surrogateescape"), dialect, own,
            own and bool(script.stat().st_mode & 0o111) or rel.endswith("install.sh")))
    return findings


# ------------------------------------------------------------------------ payload


def _closure_sonames(pkg: _Package, packages: list[_Package]) -> set[str]:
    """Library names in the packages ``pkg`` requires (transitively), among those checked."""
    by_provide: dict[str, list[_Package]] = {}
    for p in packages:
        for name in p.provides:
            by_provide.setdefault(name, []).append(p)
    seen = {id(pkg)}
    todo = [pkg]
    provided: set[str] = set()
    while todo:
        current = todo.pop()
        for dep in current.requires:
            for p in by_provide.get(dep, []):
                if id(p) not in seen:
                    seen.add(id(p))
                    provided |= p.sonames
                    todo.append(p)
    return provided


def _check_payload(pkg: _Package, rpm: RpmFile, packages: list[_Package],
                   options: CheckOptions, config: LintConfig, collected: _Collected,
                   summary: Summary, lint_unit: UnitLinter | None) -> list[Finding]:
    label = pkg.label
    findings: list[Finding] = []
    for path in rpm.iter_filenames():
        findings += units.placement_findings(label, path)
    with open(rpm.path, "rb") as f:
        f.seek(rpm.payload_offset)
        fmt = sniff(f.read(8))
    declared = rpm.tag(t.PAYLOADCOMPRESSOR) or "gzip"
    if fmt not in EL7_COMPRESSORS:
        findings.append(Finding("1", label, f"payload is {fmt}-compressed: rpm 4.11 cannot "
                                "open it (cpio: Bad magic)"))
        return findings
    if fmt != declared and declared in EL7_COMPRESSORS:
        findings.append(Finding("1", label, f"header says {declared} but the payload is {fmt}"))
    elves: list[abi.ElfFile] = []
    try:
        for member in walk(rpm, fmt):
            where = f"{label}:{member.name}"
            if stat.S_ISREG(member.mode) and member.nlink > 1:
                findings.append(Finding("11", where, f"hardlink in the payload (nlink "
                                        f"{member.nlink}); write duplicates as separate files"))
            if not stat.S_ISREG(member.mode) or member.size == 0:
                continue
            head = member.read(_HEAD)
            if head.startswith(b"#!") and member.mode & 0o111 and pkg.links:
                line = head.split(b"\n", 1)[0].decode("utf-8", "replace")
                pkg.links.shebangs[member.name] = line
            if head.startswith(ELF_MAGIC):
                summary.elf_files += 1
                info = _read_member_elf(head, member)
                if isinstance(info, str):
                    if not any(fnmatch.fnmatchcase(member.name, p) for p in options.allow_abi):
                        findings.append(Finding("18", where, f"cannot read ELF data: {info}"))
                else:
                    elves.append(abi.ElfFile(member.name, info))
                continue
            if member.size > _MAX_TEXT:
                continue
            is_unit = member.name.startswith(units.UNIT_DIR) and units.is_unit_path(member.name)
            dialect = shell.shell_dialect(member.name, head)
            wants_py = is_python(member.name, head) and config.python_in_scope(member.name)
            wants_sh = dialect is not None and config.shell_in_scope(member.name)
            if not (is_unit or wants_py or wants_sh):
                continue
            data = head + b"".join(member.chunks())
            if is_unit:
                assert lint_unit is not None  # made when the file list showed units
                summary.unit_files += 1
                findings += units.directive_findings(label, member.name,
                                                     data.decode("utf-8", "replace"), lint_unit)
            elif wants_sh:
                own = config.shell_is_own(member.name)
                collected.scripts.append(shell.Script(
                    where, data.decode("utf-8", "surrogateescape"), dialect or "bash", own,
                    own and bool(member.mode & 0o111)))
            elif wants_py:
                collected.python.add(where, data)
    except PayloadError as exc:
        findings.append(Finding("1", label, str(exc)))
    findings += _abi_findings(pkg, elves, packages, options)
    return findings


def _read_member_elf(head: bytes, member: Member) -> ElfInfo | str:
    """Parse one ELF member through a temporary file (read_elf maps files), then drop it."""
    with tempfile.NamedTemporaryFile(prefix="fate-pkg-lint-elf-") as tmp:
        tmp.write(head)
        for chunk in member.chunks():
            tmp.write(chunk)
        tmp.flush()
        try:
            return read_elf(Path(tmp.name))
        except (ElfError, OSError) as exc:
            return str(exc)


def _abi_findings(pkg: _Package, elves: list[abi.ElfFile], packages: list[_Package],
                  options: CheckOptions) -> list[Finding]:
    """Rule 18 with the ABI checker's own policy, for ELF files read from the payload.

    ``abi.check_tree`` works on a directory; here the files come from a stream, so its
    per-file step (``check_file``) is called with the package's own library names and
    version definitions, and the libraries of the packages it requires (``provided``).
    """
    if not elves:
        return []
    policy = abi.load_policy()
    provided = _closure_sonames(pkg, packages)
    in_pkg = set(pkg.sonames) | {e.info.soname for e in elves if e.info.soname}
    defined: dict[str, set[str]] = {}
    for elf in elves:
        for name in {posixpath.basename(elf.rel), elf.info.soname or ""} - {""}:
            defined.setdefault(name, set()).update(elf.info.version_defs)
    out = []
    for elf in elves:
        for v in abi.check_file(elf, policy, provided, in_pkg, defined):
            if any(fnmatch.fnmatchcase(v.path, p) for p in options.allow_abi):
                continue
            out.append(Finding("18", f"{pkg.label}:{v.path}", v.detail))
    return out


# ------------------------------------------------------------------------ scriptlets


def _check_scriptlets(pkg: _Package, rpm: RpmFile, collected: _Collected) -> list[Finding]:
    bodies: dict[str, str] = {}
    for slot, (tag, prog_tag, _) in t.SCRIPTLETS.items():
        body = rpm.tag(tag)
        if not body:
            continue
        bodies[slot] = body
        dialect = shell.interpreter_dialect(rpm.tag(prog_tag) or "/bin/sh")
        if dialect:
            collected.scripts.append(shell.Script(f"{pkg.label} %{slot}", body, dialect,
                                                  own=True, needs_strict_mode=False))
    return units.scriptlet_findings(pkg.label, pkg.unit_files, bodies)


def _check_presets(packages: list[_Package]) -> list[Finding]:
    """Rule 16: units need a preset file somewhere in the set, or %post's preset disables them."""
    ours = [p for p in packages if not p.foreign]
    if any(p.has_preset for p in ours):
        return []
    return [Finding("16", p.label, f"ships units but no package checked ships a preset in "
                    f"{units.PRESET_DIR} (CentOS 7's default preset disables them)")
            for p in ours if p.unit_files]

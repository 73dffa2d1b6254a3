"""What an RPM is made of, independent of any FATE knowledge or input format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from packager.rpm import tags as t

FileKind = Literal["file", "dir", "symlink"]

_OPS = {"<": t.SENSE_LESS, "<=": t.SENSE_LESS | t.SENSE_EQUAL, "=": t.SENSE_EQUAL,
        "==": t.SENSE_EQUAL, ">=": t.SENSE_GREATER | t.SENSE_EQUAL, ">": t.SENSE_GREATER}
_DEP_RE = re.compile(
    r"^\s*(?P<name>[^\s<>=]+)\s*(?:(?P<op><=|>=|==|=|<|>)\s*(?P<evr>[^\s<>=]\S*))?\s*$"
)
#: Characters rpm 4.11 accepts in a version or release (no '-' in either, no '^': rpm 4.15+).
_VERSION_RE = re.compile(r"^[A-Za-z0-9._+~]+$")
_NAME_RE = re.compile(r"^[A-Za-z0-9._+-]+$")

#: Extra dependency qualifiers, as in ``Requires(pre):``.
QUALIFIERS = {
    "pre": t.SENSE_SCRIPT_PRE,
    "post": t.SENSE_SCRIPT_POST,
    "preun": t.SENSE_SCRIPT_PREUN,
    "postun": t.SENSE_SCRIPT_POSTUN,
}


@dataclass(frozen=True, order=True)
class Dependency:
    """One Requires/Provides/Conflicts/Obsoletes entry: name, rpmsense flags, EVR."""

    name: str
    flags: int = 0
    version: str = ""

    @classmethod
    def parse(cls, text: str, extra_flags: int = 0) -> Dependency:
        """Parse ``"name"``, ``"name >= 1.0-1"`` (rpm's own spec syntax)."""
        m = _DEP_RE.match(text)
        if not m or text.lstrip().startswith("("):
            raise ValueError(
                f"{text!r} is not a dependency ('name' or 'name OP version'; "
                "boolean dependencies need rpm 4.13, CentOS 7 has 4.11)"
            )
        flags = extra_flags
        if m.group("op"):
            flags |= _OPS[m.group("op")]
        return cls(m.group("name"), flags, m.group("evr") or "")

    def __str__(self) -> str:
        op = {v: k for k, v in _OPS.items() if k != "=="}.get(self.flags & t.SENSE_MASK)
        return f"{self.name} {op} {self.version}" if op and self.version else self.name


class FileEntry(NamedTuple):
    """One payload entry. ``path`` is absolute on the target; sources are read at build time.

    A named tuple, not a dataclass: a venv has 10^5 of these, and a tuple costs a third of
    the memory of an object with a ``__dict__`` (measured: issue #12, 2.3 KB per file).
    ``source`` may be a ``str``; trees give strings so no ``Path`` is kept per file.
    """

    path: str
    kind: FileKind = "file"
    source: Path | str | None = None
    link_target: str = ""
    mode: int | None = None  # None: 0755 for directories, 0644 otherwise
    owner: str = "root"
    group: str = "root"
    mtime: int | None = None
    flags: int = 0

    @property
    def perm(self) -> int:
        if self.mode is not None:
            return self.mode
        return 0o755 if self.kind == "dir" else 0o644

    @property
    def ghost(self) -> bool:
        return bool(self.flags & t.FILE_GHOST)


@dataclass(frozen=True)
class Script:
    body: str
    interpreter: str = "/bin/sh"


@dataclass
class Package:
    """A binary RPM to write. Validation of values happens in :func:`validate`."""

    name: str
    version: str
    release: str
    summary: str
    arch: str = "x86_64"
    epoch: int | None = None
    description: str = ""
    license: str = "Apache-2.0"
    group: str = "Unspecified"
    url: str = ""
    vendor: str = ""
    packager: str = ""
    buildhost: str = "localhost"
    files: list[FileEntry] = field(default_factory=list)
    requires: list[Dependency] = field(default_factory=list)
    provides: list[Dependency] = field(default_factory=list)
    conflicts: list[Dependency] = field(default_factory=list)
    obsoletes: list[Dependency] = field(default_factory=list)
    scripts: dict[str, Script] = field(default_factory=dict)

    @property
    def evr(self) -> str:
        base = f"{self.version}-{self.release}"
        return f"{self.epoch}:{base}" if self.epoch is not None else base

    @property
    def nevra_filename(self) -> str:
        return f"{self.name}-{self.version}-{self.release}.{self.arch}.rpm"


def validate(pkg: Package) -> list[str]:
    """Every reason rpm 4.11 / yum 3.4.3 would refuse or misread this package's metadata."""
    errors = []
    if not _NAME_RE.match(pkg.name):
        errors.append(f"name: {pkg.name!r} has characters rpm does not allow")
    for key in ("version", "release"):
        value = getattr(pkg, key)
        if not value:
            errors.append(f"{key}: must not be empty (rpm 4.11 refuses an empty {key})")
        elif not _VERSION_RE.match(value):
            errors.append(
                f"{key}: {value!r} may only contain letters, digits and . _ + ~ "
                "(no '-'; '^' needs rpm 4.15)"
            )
    if pkg.arch not in ("x86_64", "noarch"):
        errors.append(f"arch: {pkg.arch!r} is not x86_64 or noarch")
    if not pkg.summary.strip():
        errors.append("summary: must not be empty")
    if pkg.epoch is not None and not (0 <= pkg.epoch < 2**31):
        errors.append(f"epoch: {pkg.epoch} out of range")
    for slot, script in pkg.scripts.items():
        if slot not in t.SCRIPTLETS:
            errors.append(f"scripts.{slot}: unknown scriptlet (one of {', '.join(t.SCRIPTLETS)})")
        elif " " in script.interpreter.strip() or not script.interpreter.startswith("/"):
            errors.append(
                f"scripts.{slot}.interpreter: {script.interpreter!r} must be one absolute path "
                "(interpreter arguments need rpmlib(ScriptletInterpreterArgs))"
            )
    return errors

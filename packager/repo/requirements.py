"""What our own packages need from the OS, read from the package specs (``specs/packages``).

Read from the YAML rather than through ``load_spec``: fetching happens before anything
is staged, and ``load_spec`` checks that every ``src`` exists. Only the keys that make
Requires matter here: ``requires`` and ``requires(pre|post|preun|postun)``, the scriptlet
interpreters (rpm adds ``Requires(pre): /bin/sh`` for a ``pre`` scriptlet), and what the
packages provide themselves (name, ``name(x86-64)``, ``provides``, their files), because a
requirement one of our packages satisfies (``fate-python``) is not an OS package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from packager import resources
from packager.errors import UserError
from packager.onhost import yamlfile
from packager.repo.closure import Requirement, provides
from packager.repo.metadata import Dep, RepoPackage
from packager.repo.vercmp import EVR
from packager.rpm import tags as t
from packager.rpm.model import QUALIFIERS, Dependency

#: Where the lead keeps one YAML per RPM.
SPECS_DIR = resources.specs() / "packages"


def spec_paths(specs_dir: Path = SPECS_DIR) -> list[Path]:
    return sorted(specs_dir.glob("*.yaml"))


def requirements_from_specs(paths: Iterable[Path]) -> list[Requirement]:
    """(origin, Dependency) for every OS requirement of the packages in ``paths``, sorted.

    Requirements that one of these packages satisfies are left out, as are ``rpmlib()``
    features (rpm provides them itself). Bad input raises ``UserError`` naming file and key.
    """
    ours: list[RepoPackage] = []
    wanted: list[Requirement] = []
    for path in sorted(Path(p) for p in paths):
        pkg, reqs = _read(path)
        ours.append(pkg)
        wanted += reqs
    out: dict[tuple, Requirement] = {}
    for req in sorted(wanted):
        dep = _as_dep(req.dep)
        if req.dep.name.startswith("rpmlib(") or any(provides(p, dep) for p in ours):
            continue
        # Requires(pre) and Requires(post) of one name are one question for the OS repos
        key = (req.origin, req.dep.name, req.dep.flags & t.SENSE_MASK, req.dep.version)
        out.setdefault(key, req)
    return sorted(out.values())


def _read(path: Path) -> tuple[RepoPackage, list[Requirement]]:
    try:
        data = yamlfile.read(str(path))
    except yamlfile.YamlFileError as exc:
        raise UserError(str(exc)) from None
    if not isinstance(data, dict) or not data.get("name"):
        raise UserError(f"{path}: not a package spec (a mapping with at least 'name')")
    name = str(data["name"])
    arch = str(data.get("arch", "x86_64"))
    version, release = str(data.get("version", "")), str(data.get("release", ""))
    epoch = data.get("epoch")
    evr = EVR(epoch if isinstance(epoch, int) else None, version, release)
    own: list[Dep] = [(name, t.SENSE_EQUAL, evr), (f"config({name})", t.SENSE_EQUAL, evr)]
    if arch == "x86_64":
        own.append((f"{name}(x86-64)", t.SENSE_EQUAL, evr))
    own += [_as_dep(d) for d in _deps(data.get("provides"), path, "provides", 0)]
    files = tuple(str(f["dst"]) for f in data.get("files") or []
                  if isinstance(f, dict) and isinstance(f.get("dst"), str))
    reqs = _deps(data.get("requires"), path, "requires", 0)
    for qualifier, flag in QUALIFIERS.items():
        key = f"requires({qualifier})"
        reqs += _deps(data.get(key), path, key, flag)
    scripts = data.get("scripts") or {}
    if not isinstance(scripts, dict):
        raise UserError(f"{path}: scripts: must be a mapping of scriptlet name to body")
    for slot, value in scripts.items():
        interpreter = "/bin/sh"
        if isinstance(value, dict) and value.get("interpreter"):
            interpreter = str(value["interpreter"])
        flag = t.SCRIPTLETS[slot][2] if slot in t.SCRIPTLETS else 0
        reqs.append(Dependency(interpreter, t.SENSE_INTERP | flag))
    pkg = RepoPackage(name, evr, arch, "", "", 0, str(path), provides=tuple(own), files=files)
    return pkg, [Requirement(name, d) for d in reqs]


def _deps(items: Any, path: Path, key: str, extra: int) -> list[Dependency]:
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        raise UserError(f"{path}: {key}: must be a list of 'name [OP version]' strings")
    out = []
    for index, item in enumerate(items):
        try:
            out.append(Dependency.parse(str(item), extra))
        except ValueError as exc:
            raise UserError(f"{path}: {key}[{index}]: {exc}") from None
    return out


def _as_dep(dependency: Dependency) -> Dep:
    sense = dependency.flags & t.SENSE_MASK
    evr = EVR.parse(dependency.version) if sense and dependency.version else None
    return (dependency.name, sense if evr else 0, evr)

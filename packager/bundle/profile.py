"""Bundle profiles (``bundles/<name>.yaml``): which of our packages one kind of host gets.

A profile is data so that a new host role is a new YAML file, not code. Exactly one
profile is the default; only a non-default profile's name appears in the bundle's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packager import resources
from packager.errors import UserError
from packager.onhost import yamlfile

#: Files in bundles/ that are not profiles.
_NOT_PROFILES = {"party.yaml.example"}


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    packages: tuple[str, ...]
    default: bool = False


def profile_names(directory: Path | None = None) -> list[str]:
    directory = directory or resources.bundles()
    return sorted(p.stem for p in directory.glob("*.yaml") if p.name not in _NOT_PROFILES)


def load_profile(name: str | None, directory: Path | None = None,
                 known_packages: set[str] | None = None) -> Profile:
    """The named profile, or the default one when ``name`` is None.

    ``known_packages`` (the package specs' names) catches a typo in a profile before a
    bundle that could never install is written.
    """
    directory = directory or resources.bundles()
    names = profile_names(directory)
    if name is None:
        defaults = [p for p in (_read(n, directory) for n in names) if p.default]
        if len(defaults) != 1:
            raise UserError(f"{directory}: exactly one profile must say `default: true` "
                            f"(found {len(defaults)})")
        profile = defaults[0]
    elif name not in names:
        raise UserError(f"--profile {name!r}: no such bundle profile "
                        f"(one of {', '.join(names)})")
    else:
        profile = _read(name, directory)
    if known_packages is not None:
        unknown = sorted(set(profile.packages) - known_packages)
        if unknown:
            raise UserError(f"{directory / (profile.name + '.yaml')}: no package spec named "
                            f"{', '.join(unknown)}")
    return profile


def _read(name: str, directory: Path) -> Profile:
    path = directory / f"{name}.yaml"
    try:
        data = yamlfile.read(str(path))
    except yamlfile.YamlFileError as exc:
        raise UserError(f"cannot read the bundle profile {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a bundle profile is a mapping (description, packages)")
    packages = data.get("packages")
    if (not isinstance(packages, list) or not packages
            or not all(isinstance(p, str) and p for p in packages)):
        raise UserError(f"{path}: `packages` must be a non-empty list of package names")
    if len(set(packages)) != len(packages):
        raise UserError(f"{path}: `packages` lists a package twice")
    unknown_keys = sorted(set(data) - {"description", "packages", "default"})
    if unknown_keys:
        raise UserError(f"{path}: unknown key(s) {', '.join(unknown_keys)}")
    return Profile(name, str(data.get("description") or ""), tuple(packages),
                   bool(data.get("default", False)))

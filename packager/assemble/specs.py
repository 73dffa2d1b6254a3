"""Package specs for a release build (``specs/packages/*.yaml``).

The one-package YAML of ``fate-pkg rpm`` (:mod:`packager.rpm.spec`) plus what only a
release build knows:

- ``{version}``, ``{release}``, ``{user}``, ``{group}`` anywhere in the text;
- ``from:`` + ``path:`` on a file entry: the source inside a release artifact chain
  (``[outer.tar.gz, inner.tar.gz]``) or a build step's tree (``"@python-env"``);
- ``bytecode: true`` on a ``tree: true`` entry with ``from:``: the tree ships byte code
  for its ``dst`` (made by the ``bytecode`` build step with the release's Python);
- ``systemd_units:``: units this package ships; their el7 scriptlets (rule 16) are added
  (a mapping ``{unit: {restart: false}}`` keeps a unit from being try-restarted on upgrade);
- ``stage:``: configuration of build steps (e.g. ``python-env``);
- ``abi_allow:``: fnmatch patterns of files accepted despite the ELF ABI check;
- the release manifest's ``os_requires`` for this package are added to ``requires``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packager.assemble.stage import Stager
from packager.assemble.steps import BYTECODE
from packager.errors import UserError
from packager.onhost import catalogue, yamlfile
from packager.rpm.model import Package
from packager.rpm.spec import SpecError, package_from_dict
from packager.systemd_scriptlets import restart_graph, scriptlets

BUILD_KEYS = ("systemd_units", "stage", "abi_allow", "os_closure")
_VAR = re.compile(r"\{(version|release|user|group)\}")


@dataclass
class BuildSpec:
    name: str
    path: Path
    text: str
    data: dict
    origins: list[Any] = field(default_factory=list)

    @property
    def steps(self) -> set[str]:
        return {o[1:] for o in self.origins if isinstance(o, str) and o.startswith("@")}

    @property
    def artifacts(self) -> set[str]:
        names = set()
        for o in self.origins:
            if isinstance(o, list):
                names.add(o[0])
            elif isinstance(o, str) and not o.startswith("@"):
                names.add(o)
        return names

    @property
    def bytecode_trees(self) -> list[dict[str, Any]]:
        """The trees this spec ships with byte code: ``{"from", "path", "dst"}`` each."""
        return [{"from": f["from"], "path": f.get("path", ""), "dst": f["dst"]}
                for f in self.data.get("files") or []
                if isinstance(f, dict) and f.get("bytecode")]

    @property
    def abi_allow(self) -> list[str]:
        return [str(p) for p in self.data.get("abi_allow") or []]

    def units(self) -> dict[str, dict]:
        units = self.data.get("systemd_units") or {}
        if isinstance(units, list):
            units = {u: {} for u in units}
        return units


def load_specs(directory: Path, variables: dict[str, str]) -> list[BuildSpec]:
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise UserError(f"{directory}: no package specs (*.yaml)")
    specs = []
    for path in paths:
        raw = path.read_text()
        text = _VAR.sub(lambda m: variables[m.group(1)], raw)
        try:
            data = yamlfile.parse(text, str(path))
        except yamlfile.YamlFileError as exc:
            raise UserError(str(exc)) from None
        if not isinstance(data, dict) or "name" not in data:
            raise UserError(f"{path}: a package spec is a mapping with at least 'name'")
        origins = [f["from"] for f in data.get("files") or []
                   if isinstance(f, dict) and "from" in f]
        for i, f in enumerate(data.get("files") or []):
            if isinstance(f, dict) and f.get("bytecode"):
                if not (f.get("tree") and "from" in f and "dst" in f):
                    raise UserError(f"{path}: files[{i}]: bytecode is for a tree entry "
                                    "(tree: true) with from: and dst:")
                origins.append("@" + BYTECODE)
        for step in (data.get("stage") or {}).values():
            origins += [v["from"] for v in step.values() if isinstance(v, dict) and "from" in v]
        specs.append(BuildSpec(str(data["name"]), path, text, data, origins))
    names = [s.name for s in specs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise UserError(f"{directory}: package {sorted(dup)[0]} is described twice")
    return specs


def to_package(spec: BuildSpec, stager: Stager, os_requires: list[str]) -> Package:
    """Resolve sources through ``stager`` and build the writer's :class:`Package`."""
    data = copy.deepcopy(spec.data)
    for key in BUILD_KEYS:
        data.pop(key, None)
    for i, item in enumerate(data.get("files") or []):
        if isinstance(item, dict) and "from" in item:
            origin = item.pop("from")
            inner = item.pop("path", "")
            if item.pop("bytecode", False):  # the same tree, compiled, in the step's tree
                origin, inner = "@" + BYTECODE, str(item["dst"]).lstrip("/")
            try:
                item["src"] = str(stager.source(origin, inner))
            except UserError as exc:
                raise UserError(f"{spec.path}: files[{i}]: {exc}") from None
    if os_requires:
        data["requires"] = list(data.get("requires") or []) + os_requires
    units = spec.units()
    if units:
        scripts = data.setdefault("scripts", {})
        groups: dict[bool, list[str]] = {}
        for unit, opts in units.items():
            groups.setdefault(bool((opts or {}).get("restart", True)), []).append(unit)
        order, dependents = restart_graph(catalogue.load())
        package = str(data.get("name") or spec.name)
        for restart, names in sorted(groups.items()):
            bodies = scriptlets(names, restart, order, dependents, package)
            for slot, body in bodies.items():
                old = scripts.get(slot)
                old_body = old.get("body", "") if isinstance(old, dict) else (old or "")
                joined = (old_body.rstrip("\n") + "\n" if old_body else "") + body
                if isinstance(old, dict):
                    old["body"] = joined
                else:
                    scripts[slot] = joined
    try:
        pkg, _ = package_from_dict(data, Path("/"), str(spec.path))
    except SpecError as exc:
        raise UserError(str(exc)) from None
    return pkg

"""Build steps: trees no single artifact holds (``from: "@name"`` in package specs).

Every step answers two questions, so the pipeline asks instead of knowing its insides:
what its tree is made from (:meth:`Step.inputs`: release artifacts, files of this
project and other steps' trees, hashed into the fingerprint of every RPM that uses the
step) and how the tree is made (:meth:`Step.make`, which gets another step's tree from the
stager). A step's configuration is the ``stage: {name: ...}`` block of the package spec
that uses it.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import packager.onhost
from packager import resources
from packager.assemble.bytecode import compile_trees, refuse_leftovers
from packager.assemble.python_env import PythonEnvSpec, build_python_env
from packager.errors import UserError
from packager.onhost import services
from packager.release import Release

if TYPE_CHECKING:
    from packager.assemble.stage import Stager

TOOLS_PREFIX = "usr/lib/fate-tools"
#: The step that makes the Python environment (and so the release's interpreter).
PYTHON_ENV = "python-env"
#: The step that byte-compiles the trees of file entries marked ``bytecode: true``.
BYTECODE = "bytecode"
#: Console commands of fate-tools: name -> the on-host module:function it runs.
COMMANDS = {
    "fate-configure": "packager.onhost.configure.cli:main",
    "fate-ctl": "packager.onhost.ctl.cli:main",
    "fate-waitport": "packager.onhost.waitport:main",
    "fate-deploy": "packager.onhost.deploy.cli:main",  # shipped by the fate-deploy RPM
}
#: Top-level packages taken from the vendored wheels (pure Python files only).
VENDORED = ("jinja2", "markupsafe", "yaml")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


@dataclass(frozen=True)
class StepContext:
    """What a step may know about the build it runs in."""

    releases: list[Release]
    config: dict[str, Any] = field(default_factory=dict)  # the spec's ``stage: {name: ...}``
    account: tuple[str, str] = ("app", "apps")
    version: str = ""
    sde: int | None = None  # the build's SOURCE_DATE_EPOCH (what the RPM writer clamps to)


@dataclass(frozen=True)
class Inputs:
    """What a step's tree is made from: release artifacts by name, files of this project,
    and the steps whose trees :meth:`Step.make` reads (their inputs count too)."""

    artifacts: frozenset[str] = frozenset()
    files: tuple[Path, ...] = ()
    steps: frozenset[str] = frozenset()


class Step(Protocol):
    def inputs(self, ctx: StepContext) -> Inputs: ...

    def make(self, stager: Stager, ctx: StepContext, out: Path) -> None: ...


class UnitsStep:
    """The systemd units, fate.target and the preset, rendered from the service catalogue."""

    def inputs(self, ctx: StepContext) -> Inputs:
        return Inputs(files=(resources.units(),))

    def make(self, stager: Stager, ctx: StepContext, out: Path) -> None:
        services.render_units(str(out), account=ctx.account)


class PythonEnvStep:
    """Miniconda + the FATE venv at their final prefixes, offline (see python_env)."""

    _SOURCES = ("installer", "virtualenv_wheel", "wheels")

    def inputs(self, ctx: StepContext) -> Inputs:
        cfg = self._config(ctx)
        return Inputs(artifacts=frozenset(cfg[k]["from"][0] for k in self._SOURCES if k in cfg))

    def make(self, stager: Stager, ctx: StepContext, out: Path) -> None:
        cfg = self._config(ctx)

        def src(key: str) -> Path:
            return stager.source(cfg[key]["from"], cfg[key]["path"])

        wheels = src("wheels")
        spec = PythonEnvSpec(
            installer=src("installer"),
            virtualenv_wheel=src("virtualenv_wheel") if "virtualenv_wheel" in cfg else None,
            wheels=wheels,
            requirements=wheels / cfg.get("requirements", "requirements.txt"),
            conda_prefix=cfg["conda_prefix"], venv_prefix=cfg["venv_prefix"],
        )
        build_python_env(spec, out, stager.work / "python-env.log", ctx.sde)

    def python(self, stager: Stager) -> Path:
        """The release's Python 3.6 (the staged Miniconda's), made by this step if it was
        not yet: what byte-compiles for the target."""
        tree = stager.step(PYTHON_ENV)
        return tree / self._config(stager.contexts[PYTHON_ENV])["conda_prefix"].lstrip("/") \
            / "bin" / "python3"

    @staticmethod
    def _config(ctx: StepContext) -> dict[str, Any]:
        if not ctx.config:
            raise UserError("@python-env is used but no package spec configures "
                            "stage.python-env")
        return ctx.config


class BytecodeStep:
    """FATE's own Python trees (fate_flow, federatedml, eggroll's client), each a tree entry
    of a package spec marked ``bytecode: true``, with byte code for where they are installed.

    Each tree is linked (not copied) from its staged archive into ``out/<dst>`` and compiled
    there by the release's Python, as the python-env step compiles its own trees
    (:func:`packager.assemble.bytecode.compile_trees`). Config: ``{"trees": [{"from",
    "path", "dst"}, ...]}``, gathered from the specs' entries (see ``step_contexts``).
    """

    def __init__(self, env: PythonEnvStep) -> None:
        self._env = env

    def inputs(self, ctx: StepContext) -> Inputs:
        return Inputs(steps=frozenset({PYTHON_ENV}))

    def make(self, stager: Stager, ctx: StepContext, out: Path) -> None:
        python = self._env.python(stager)
        trees = []
        for tree in ctx.config.get("trees") or []:
            target = out / tree["dst"].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(stager.source(tree["from"], tree["path"]), target, symlinks=True,
                            copy_function=os.link)
            trees.append(target)
        with open(stager.work / "bytecode.log", "w") as log:
            done = compile_trees(python, trees, out, ctx.sde, log)
        refuse_leftovers("byte code", done.leftovers)


class ToolsStep:
    """fate-tools: the on-host package (with its catalogue), vendored libraries, wrappers."""

    def inputs(self, ctx: StepContext) -> Inputs:
        return Inputs(artifacts=frozenset(_tool_wheels(ctx)),
                      files=(onhost_dir(), resources.units(), _example()))

    def make(self, stager: Stager, ctx: StepContext, out: Path) -> None:
        lib = out / TOOLS_PREFIX
        lay_out_onhost(lib)
        self._vendor(stager, ctx, lib / "vendor")
        bindir = out / "usr/bin"
        bindir.mkdir(parents=True)
        for command, target in COMMANDS.items():
            module, func = target.split(":")
            (bindir / command).write_text(
                "#!/bin/bash\n"
                f"# {command}: part of fate-tools; on-host Python (3.6+), vendored libraries.\n"
                "set -euo pipefail\n"
                f"PYTHONPATH=/{TOOLS_PREFIX}:/{TOOLS_PREFIX}/vendor exec /usr/bin/python3 -s -c "
                f"'import sys; sys.argv[0] = \"{command}\"; from {module} import {func}; "
                f"sys.exit({func}())' \"$@\"\n")
            (bindir / command).chmod(0o755)
        doc = out / "usr/share/doc" / f"fate-tools-{ctx.version}"
        doc.mkdir(parents=True)
        shutil.copy2(_example(), doc / "party.yaml.example")

    @staticmethod
    def _vendor(stager: Stager, ctx: StepContext, vendor: Path) -> None:
        vendor.mkdir()
        found = set()
        for name in _tool_wheels(ctx):
            with zipfile.ZipFile(stager.artifact(name)) as zf:
                for member in zf.infolist():
                    top = member.filename.split("/", 1)[0]
                    if top in VENDORED and member.filename.endswith((".py", "py.typed")):
                        found.add(top)
                        target = vendor / member.filename
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(zf.read(member))
        missing = sorted(set(VENDORED) - found)
        if missing:
            raise UserError(f"fate-tools: vendored libraries missing: {', '.join(missing)} "
                            "(fate-pkg fetch --release vendor-py36)")


def _tool_wheels(ctx: StepContext) -> list[str]:
    return sorted(a.name for r in ctx.releases for a in r.artifacts if a.component == "tools")


def lay_out_onhost(lib: Path) -> Path:
    """The on-host package under ``lib`` exactly as fate-tools ships it; returns its dir.

    Only the on-host tree: ``packager`` is a namespace package on the host, so nothing of
    the build side is shipped or importable there. Tests that run the on-host code as the
    host does (in containers, on Python 3.6) lay it out with this too.
    """
    dst = lib / "packager" / "onhost"
    shutil.copytree(onhost_dir(), dst, ignore=_IGNORE)
    shutil.copytree(resources.units(), dst / "units", ignore=_IGNORE, dirs_exist_ok=True)
    return dst


def onhost_dir() -> Path:
    """The on-host package's directory (its ``units`` data is mapped in from ``units/``)."""
    return Path(packager.onhost.__file__).resolve().parent


def _example() -> Path:
    example = resources.bundles() / "party.yaml.example"
    if not example.exists():
        raise UserError(f"{example} is missing (generated by fate-configure's schema)")
    return example


_PYTHON_ENV_STEP = PythonEnvStep()
STEPS: dict[str, Step] = {"units": UnitsStep(), PYTHON_ENV: _PYTHON_ENV_STEP,
                          BYTECODE: BytecodeStep(_PYTHON_ENV_STEP), "tools": ToolsStep()}


def closure(names: set[str], contexts: dict[str, StepContext]) -> list[str]:
    """``names`` and every step their inputs name, transitively, sorted (what an RPM made
    from ``names`` depends on: the byte code step's RPMs on the Python env's inputs)."""
    seen: set[str] = set()
    todo = [n for n in names if n in STEPS]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [s for s in STEPS[name].inputs(contexts[name]).steps if s in STEPS]
    return sorted(seen)

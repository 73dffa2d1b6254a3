"""Steps that use other steps: fate-flow's byte code is made by the Python env's interpreter,
so its fingerprint follows what that interpreter is made from (no build: fingerprints only)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from packager import resources
from packager.assemble.pipeline import _fingerprint, step_contexts
from packager.assemble.specs import load_specs
from packager.assemble.steps import BYTECODE, PYTHON_ENV, closure
from packager.errors import UserError
from packager.fetch.cache import Cache
from packager.release import releases_for

from .conftest import SDE, sample_options

VARIABLES = {"version": "1.4.5", "release": "1", "user": "app", "group": "apps"}
INSTALLER = "python-env-1.4.5-release.tar.gz"  # holds the Miniconda installer


def _fingerprints(tmp_path: Path, specs_dir: Path, releases=None) -> dict[str, str]:
    releases = releases or releases_for("sample-1.4.5")
    specs = load_specs(specs_dir, VARIABLES)
    opts = sample_options(Cache(tmp_path / "cache"), tmp_path / "dist")
    contexts = step_contexts(specs, releases, opts, SDE)
    return {s.name: _fingerprint(s, releases, contexts, opts, SDE) for s in specs}


def _with_new_installer(releases):
    """The same release whose python-env artifact (the interpreter's installer) has other
    bytes."""
    first = releases[0]
    arts = tuple(dataclasses.replace(a, sha256="0" * 64) if a.name == INSTALLER else a
                 for a in first.artifacts)
    assert arts != first.artifacts
    return [dataclasses.replace(first, artifacts=arts), *releases[1:]]


def test_a_new_interpreter_rebuilds_the_byte_compiled_trees_only(tmp_path):
    specs_dir = resources.specs() / "packages"
    before = _fingerprints(tmp_path, specs_dir)
    after = _fingerprints(tmp_path, specs_dir, _with_new_installer(releases_for("sample-1.4.5")))
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"fate-python", "fate-flow", "fate-eggroll"}


def test_the_python_envs_config_counts_for_the_trees_it_compiles(tmp_path):
    """Another spec (fate-python's) says where the interpreter is in the env: its stage
    block is part of fate-flow's fingerprint although fate-flow's text is unchanged."""
    specs = tmp_path / "specs"
    specs.mkdir()
    for path in (resources.specs() / "packages").glob("*.yaml"):
        (specs / path.name).write_text(path.read_text())
    before = _fingerprints(tmp_path, specs)
    env = specs / "fate-python.yaml"
    env.write_text(env.read_text().replace("Miniconda3-4.5.4-Linux-x86_64.sh",
                                           "Miniconda3-4.5.11-Linux-x86_64.sh"))
    after = _fingerprints(tmp_path, specs)
    assert before["fate-flow"] != after["fate-flow"]
    assert before["fate-board"] == after["fate-board"]


def test_the_bytecode_step_needs_the_python_env():
    specs = load_specs(resources.specs() / "packages", VARIABLES)
    flow = next(s for s in specs if s.name == "fate-flow")
    contexts = step_contexts(specs, releases_for("sample-1.4.5"),
                             sample_options(Cache(Path("/nonexistent")), Path("/nonexistent")))
    assert closure(flow.steps, contexts) == sorted({BYTECODE, PYTHON_ENV, "units"})
    trees = contexts[BYTECODE].config["trees"]
    assert [t["dst"] for t in trees] == ["/data/projects/fate/eggroll",
                                          "/data/projects/fate/python"]


def test_bytecode_is_only_for_tree_entries(tmp_path):
    (tmp_path / "x.yaml").write_text(
        "name: x\nfiles:\n  - {from: [a.tar.gz], path: a/b.py, dst: /opt/b.py, bytecode: true}\n")
    with pytest.raises(UserError, match="bytecode is for a tree entry"):
        load_specs(tmp_path, VARIABLES)

"""Rule 20: absolute symlinks and ``#!`` interpreters land on something CentOS 7 has.

The sample's fate-python once linked ``venv/bin/python3.11 -> /usr/bin/python3.11`` and
``miniconda3/bin/python3 -> /usr/bin/python3`` without requiring either; on a CentOS 7
host fate_flow failed with status=203/EXEC and the lint said nothing.
"""

from __future__ import annotations

from pathlib import Path

from packager.lint import check_paths
from packager.rpm import Dependency, FileEntry

from .craft import build, package

CONDA = "/data/projects/fate/common/miniconda3"
VENV = "/data/projects/fate/common/python/venv"


def rule_20(tmp: Path, *packages) -> list[str]:
    paths = [build(tmp / f"out{i}", pkg) for i, pkg in enumerate(packages)]
    return [f"{f.artifact.split(':', 1)[1]}: {f.message}"
            for f in check_paths([str(p) for p in paths]) if f.rule == "20"]


def script(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def python_env(tmp: Path, venv_link: str, conda_link: str, **kw):
    launcher = script(tmp, "python3.6", "#!/bin/bash\nexec /usr/bin/python3.6 \"$@\"\n")
    files = [FileEntry(f"{CONDA}/bin", "dir"), FileEntry(f"{VENV}/bin", "dir"),
             FileEntry(f"{CONDA}/bin/python3.6", "file", source=launcher, mode=0o755),
             FileEntry(f"{CONDA}/bin/python3", "symlink", link_target=conda_link),
             FileEntry(f"{VENV}/bin/python3", "symlink", link_target=venv_link)]
    return package(tmp, files, name="fate-python", **kw)


def test_a_venv_made_against_a_build_host_python_is_refused(tmp_path):
    found = rule_20(tmp_path, python_env(tmp_path, "/usr/bin/python3.11", "/usr/bin/python3"))
    assert found == [
        f"{CONDA}/bin/python3: symlink /usr/bin/python3 is in CentOS 7's python3, which "
        "fate-python does not require",
        f"{VENV}/bin/python3: symlink /usr/bin/python3.11: no RPM of the set and no CentOS 7 "
        "@core or bundled OS package provides /usr/bin/python3.11"]


def test_a_venv_of_the_miniconda_interpreter_passes(tmp_path):
    pkg = python_env(tmp_path, f"{CONDA}/bin/python3", "python3.6")
    assert rule_20(tmp_path, pkg) == []


def test_an_os_interpreter_needs_a_requires_unless_core(tmp_path):
    tool = script(tmp_path, "tool", "#!/usr/bin/env python3\nprint(1)\n")
    sh = script(tmp_path, "run.sh", "#!/bin/bash\ntrue\n")
    doc = script(tmp_path, "mod.py", "#!/usr/bin/env python3.11\n")  # not executable
    files = [FileEntry("/opt/fate-lint/tool", "file", source=tool, mode=0o755),
             FileEntry("/opt/fate-lint/run.sh", "file", source=sh, mode=0o755),
             FileEntry("/opt/fate-lint/mod.py", "file", source=doc)]
    assert rule_20(tmp_path, package(tmp_path, files)) == [
        "/opt/fate-lint/tool: env command python3 is in CentOS 7's python3, which fate-lint "
        "does not require"]
    fixed = package(tmp_path, files, requires=[Dependency("python3")])
    assert rule_20(tmp_path / "fixed", fixed) == []


def test_a_link_into_another_rpm_needs_that_rpm_required(tmp_path):
    target = package(tmp_path, [FileEntry("/data/logs/fate", "dir")], name="fate-common")
    link = [FileEntry("/opt/fate-lint/logs", "symlink", link_target="/data/logs/fate")]
    alone = package(tmp_path, link)
    assert rule_20(tmp_path / "a", alone, target) == [
        "/opt/fate-lint/logs: symlink /data/logs/fate is in fate-common, which fate-lint "
        "does not require"]
    required = package(tmp_path, link, requires=[Dependency("fate-common")])
    assert rule_20(tmp_path / "b", required, target) == []

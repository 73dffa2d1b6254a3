"""The Python-env step with the interpreters and pips an old Miniconda brings.

FATE 1.4.5's Miniconda 4.5.4 is CPython 3.6 with pip 10.0.1; CPython 3.6.15's own pip is
18.1. Both crash on ``PIP_NO_CACHE_DIR=1`` (``TypeError: expected str, bytes or
os.PathLike object, not int``), which the step used to set. The sample Miniconda is made
from a real CPython 3.6.15 here, once with its pip 18.1 and once with pip 10.0.1 from PyPI.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from packager.assemble.python_env import PythonEnvSpec, build_python_env
from packager.sample import generate
from support import py36

CONDA = "/data/projects/fate/common/miniconda3"
VENV = "/data/projects/fate/common/python/venv"


@pytest.fixture(scope="module")
def python_env_files(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("python-env")
    generate(base / "sample")
    with tarfile.open(base / "sample/python-env-1.4.5-release.tar.gz") as tar:
        tar.extractall(base)
    with tarfile.open(base / "python-env/pip-packages-fate-1.4.5.tar.gz") as tar:
        tar.extractall(base)
    return base


def _pip_version(site: Path) -> str:
    (info,) = site.glob("pip-*.dist-info")
    return info.name[len("pip-"):-len(".dist-info")]


@pytest.mark.slow
@pytest.mark.parametrize("pip", ["18.1 (CPython 3.6.15's)", "10.0.1 (Miniconda 4.5.4's)"])
def test_python_env_builds_with_the_pip_of_an_old_miniconda(python_env_files, tmp_path,
                                                             monkeypatch, pip):
    monkeypatch.setenv("FATE_SAMPLE_HOST_PYTHON", str(py36.python36()))
    want = pip.split()[0]
    if want == "10.0.1":
        monkeypatch.setenv("FATE_SAMPLE_PIP_WHEEL", str(py36.pip_wheel(want)))
    files = python_env_files / "python-env"
    spec = PythonEnvSpec(
        installer=files / "Miniconda3-4.5.4-Linux-x86_64.sh",
        virtualenv_wheel=files / "virtualenv-20.0.18-py2.py3-none-any.whl",
        wheels=python_env_files / "pip-packages-fate-1.4.5",
        requirements=python_env_files / "pip-packages-fate-1.4.5/requirements.txt",
        conda_prefix=CONDA, venv_prefix=VENV)
    root = tmp_path / "root"
    log = tmp_path / "python-env.log"
    build_python_env(spec, root, log)
    conda, venv = root / CONDA.lstrip("/"), root / VENV.lstrip("/")
    assert _pip_version(conda / "lib/python3.6/site-packages") == want, log.read_text()
    assert list((venv / "lib/python3.6/site-packages").glob("fate_sample_kit*"))
    # The venv is made with the Miniconda's interpreter, inside the same RPM ...
    assert os.readlink(venv / "bin/python3") == f"{CONDA}/bin/python3"
    assert f"home = {CONDA}/bin" in (venv / "pyvenv.cfg").read_text()
    # ... which runs CentOS 7's /usr/bin/python3.6 (and no build-host path is linked).
    assert os.readlink(conda / "bin/python3") == "python3.6"
    launcher = (conda / "bin/python3.6").read_text()
    assert launcher.startswith("#!/bin/bash\n") and "/usr/bin/python3.6" in launcher
    # It runs here too (through the 3.6 that made it), with this prefix as sys.prefix.
    run = subprocess.run([str(conda / "bin/python3"), "-c",
                          "import sys; print(sys.prefix, sys.version_info[:2])"],
                         capture_output=True, text=True)
    assert run.stdout.split() == [str(conda), "(3,", "6)"], run.stderr

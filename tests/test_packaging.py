"""The project as a user gets it: a wheel, a plain ``pip install``, an empty directory.

An editable install from the checkout hides every missing package-data entry; this
builds the wheel the way a user or an index would (``python -m build``), installs it into
a fresh venv without the checkout on any path, and runs the main job from an empty
directory: fetch the vendored libraries, build the sample, check and verify.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_is_listed():
    """pyproject lists packages by hand (data folders are mapped in): none may be missed."""
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "packager").rglob("__init__.py")
             if "payload" not in p.parts and "__pycache__" not in p.parts}
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    mapped = _pyproject()["tool"]["setuptools"]["package-dir"]
    assert listed - found == set(mapped), "listed packages that do not exist"
    for package, folder in mapped.items():
        assert (ROOT / folder / "__init__.py").is_file(), package


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    (whl,) = out.glob("fate_pkg-*.whl")
    return whl


def test_wheel_carries_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for member in ("packager/_specs/releases/sample-1.4.5.yaml",
                   "packager/_specs/packages/fate-tools.yaml",
                   "packager/_specs/el7/lint.yaml",
                   "packager/_specs/el7/systemd-219-directives.txt",
                   "packager/_bundles/all-in-one.yaml",
                   "packager/_bundles/files/install.sh",
                   "packager/_bundles/party.yaml.example",
                   "packager/onhost/units/services.yaml",
                   "packager/onhost/units/service.j2",
                   "packager/onhost/templates/my.cnf.j2",
                   "packager/sample/payload/mysql/create-eggroll-meta-tables.sql"):
        assert member in names, member
    assert not any(n.startswith(("specs/", "units/", "bundles/", "tests/")) for n in names)


@pytest.mark.slow
def test_pip_install_runs_from_an_empty_directory(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = [str(env_dir / "bin/python"), "-m", "pip", "install", "-q",
           "--disable-pip-version-check"]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True, text=True)
    empty = tmp_path / "cwd"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # nothing from the developer's cache
    env["PATH"] = f"{env_dir / 'bin'}:{env['PATH']}"

    def run(*argv: str) -> subprocess.CompletedProcess:
        r = subprocess.run([str(env_dir / "bin/fate-pkg"), *argv], cwd=empty, env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, f"fate-pkg {' '.join(argv)}:\n{r.stdout}\n{r.stderr}"
        return r

    run("fetch", "--release", "vendor-py36")
    run("build", "--offline", "--sample", "-o", str(tmp_path / "out"),
        "--compression", "gzip:1")
    rpms = sorted((tmp_path / "out").glob("*.rpm"))
    assert len(rpms) == 9, rpms  # 8 for the party hosts, fate-deploy
    run("check", str(tmp_path / "out"))
    (bundle,) = (tmp_path / "out").glob("fate-bundle-*.tar")
    run("verify", str(bundle))
    assert sorted(p.name for p in empty.iterdir()) == []

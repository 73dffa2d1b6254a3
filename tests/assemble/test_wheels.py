"""Our offline wheel install (packager.assemble.wheels) against pip 18.1 on the same wheels.

The python-env step used to run ``pip install -r requirements.txt --no-index --find-links``
in the venv (CPython 3.6.15's pip 18.1). The wheels here have what a real wheelhouse has
that a plain unzip gets wrong: ``.data/scripts`` (a ``#!python`` one, a shell one, and
setuptools' own wrapper of an entry point, which pip drops), ``.data/data`` and
``.data/headers``, console and GUI entry points, an executable member, a non-ASCII name, a
namespace package split over two wheels with a ``-nspkg.pth``, and a dependency that no
pin names (pip takes it from the wheelhouse). Both ways are relocated and normalised as
the build does; then every path, mode and byte must be the same.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from packager.assemble import wheels
from packager.assemble.isolate import offline_env
from packager.assemble.python_env import install_requirements, normalise_dist_info
from packager.assemble.relocate import relocate
from packager.assemble.wheels import resolve, wheelhouse
from packager.errors import UserError
from support import py36


def _wheel(house: Path, name: str, version: str, members: dict[str, tuple[bytes, int]],
           requires: tuple[str, ...] = (), entry_points: str = "",
           requires_python: str = "") -> None:
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = dict(members)
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + \
        "".join(f"Requires-Dist: {r}\n" for r in requires) + \
        (f"Requires-Python: {requires_python}\n" if requires_python else "")
    files[f"{info}/METADATA"] = (meta.encode(), 0o644)
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n", 0o644)
    if entry_points:
        files[f"{info}/entry_points.txt"] = (entry_points.encode(), 0o644)
    record = []
    for path, (data, _) in sorted(files.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}\n")
    record.append(f"{info}/RECORD,,\n")
    files[f"{info}/RECORD"] = ("".join(record).encode(), 0o644)
    with zipfile.ZipFile(house / f"{dist}-{version}-py3-none-any.whl", "w") as zf:
        for path, (data, mode) in files.items():
            member = zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0))
            member.external_attr = (0o100000 | mode) << 16
            zf.writestr(member, data, zipfile.ZIP_DEFLATED)


@pytest.fixture(scope="module")
def house(tmp_path_factory) -> Path:
    return make_house(tmp_path_factory.mktemp("wheelhouse"))


def make_house(house: Path) -> Path:
    data = "demo_tool-1.0.data"
    _wheel(house, "demo-tool", "1.0", {
        "demo_tool/__init__.py": (b"VALUE = 1\n", 0o644),
        "demo_tool/cli.py": (b"def main():\n    return 0\n\ndef gui():\n    return 0\n", 0o644),
        "demo_tool/bin/helper": (b"#!/bin/sh\necho helper\n", 0o755),
        "demo_tool/donn\u00e9es.txt": ("caf\u00e9\n".encode(), 0o644),
        f"{data}/scripts/demo-run": (b"#!python\nimport demo_tool\nprint(demo_tool.VALUE)\n",
                                     0o755),
        f"{data}/scripts/plain.sh": (b"#!/bin/sh\necho plain\n", 0o644),
        f"{data}/scripts/demo": (b"#!python\n# setuptools' wrapper of the entry point\n",
                                 0o755),
        f"{data}/data/share/demo/readme.txt": (b"shared data\n", 0o644),
        f"{data}/headers/demo.h": (b"#define DEMO 1\n", 0o644),
    }, requires=("ns-b>=1.0", 'enum34; python_version < "3.4"'),
        entry_points="[console_scripts]\n  demo = demo_tool.cli:main\n"
                     "[gui_scripts]\ndemo-gui = demo_tool.cli:gui\n")
    _wheel(house, "ns-a", "2.0", {"nsroot/part_a/__init__.py": (b"A = 1\n", 0o644)},
           requires=("demo-tool==1.0",))
    _wheel(house, "ns-b", "1.1", {
        "nsroot/part_b/__init__.py": (b"B = 1\n", 0o644),
        "ns_b-1.1-py3.6-nspkg.pth": (b"import sys, types, os;has_mfs = sys.version_info > "
                                     b"(3, 5);p = os.path.join(sys._getframe(1).f_locals"
                                     b"['sitedir'], *('nsroot',))\n", 0o644)})
    _wheel(house, "ns-b", "0.9", {"nsroot/part_b/__init__.py": (b"B = 0\n", 0o644)})
    _wheel(house, "extra-user", "1.0", {"extra_user.py": (b"X = 1\n", 0o644)},
           requires=('ns-b>=1.0; extra == "full"',))
    (house / "requirements.txt").write_text("# pins\ndemo-tool==1.0\n\nns-a==2.0  # ns\n")
    return house


def _new_files(venv: Path, before: set[str]) -> dict[str, tuple[int, bytes]]:
    out = {}
    for root, dirs, files in os.walk(venv):
        for name in dirs + files:
            path = Path(root, name)
            rel = str(path.relative_to(venv))
            if rel in before:
                continue
            mode = path.lstat().st_mode
            data = os.readlink(path).encode() if path.is_symlink() else \
                b"" if path.is_dir() else path.read_bytes()
            out[rel] = (mode, data)
    return out


def _listing(venv: Path) -> set[str]:
    return {str(Path(r, n).relative_to(venv)) for r, ds, fs in os.walk(venv) for n in ds + fs}


def _finish(stage: Path, venv: Path, skip: set[str] = frozenset()) -> None:
    done = relocate(venv, str(stage), "", skip=skip)
    normalise_dist_info(venv, done.changed)


@pytest.mark.slow
def test_our_install_writes_what_pip_18_writes(house, tmp_path):
    python = str(py36.python36())
    stage = tmp_path / "stage"
    venv = stage / "opt/fate/venv"
    env = offline_env({"PIP_CACHE_DIR": str(tmp_path / "pip-cache")})
    subprocess.run([python, "-m", "venv", str(venv)], check=True, env=env)
    before = _listing(venv)
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-index",
                    "--no-compile", "--only-binary=:all:", "--find-links", str(house), "-r",
                    str(house / "requirements.txt")], check=True, env=env)
    _finish(stage, venv)
    by_pip = _new_files(venv, before)
    shutil.rmtree(venv)

    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
    before = _listing(venv)
    with open(tmp_path / "log", "w") as log:
        verbatim = install_requirements(house / "requirements.txt", house, venv, log)
    # as the build does: what was copied as it is, relocation does not read
    assert f"{venv}/lib/python3.6/site-packages/demo_tool/cli.py" in verbatim
    written = {f"{venv}/bin/{n}" for n in ("demo", "demo-gui", "demo-run")}
    assert not written & verbatim and f"{venv}/bin/plain.sh" in verbatim
    _finish(stage, venv, verbatim)
    ours = _new_files(venv, before)

    assert "bin/demo-gui" in by_pip and "include/site/python3.6/demo-tool/demo.h" in by_pip
    assert "lib/python3.6/site-packages/nsroot/part_b/__init__.py" in by_pip  # from Requires
    assert sorted(ours) == sorted(by_pip)
    for rel in by_pip:
        assert (rel, oct(ours[rel][0])) == (rel, oct(by_pip[rel][0]))
        if rel.endswith("/RECORD"):  # row by row, for a readable difference
            assert ours[rel][1].decode().splitlines() == by_pip[rel][1].decode().splitlines()
        assert (rel, ours[rel][1]) == (rel, by_pip[rel][1])


def _venv_dir(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "lib/python3.6/site-packages").mkdir(parents=True, exist_ok=True)
    return venv


def test_a_requirement_other_than_a_pin_is_refused_with_its_line(house, tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("demo-tool==1.0\nns-a>=2.0\ngit+https://example.invalid/x.git\n")
    with pytest.raises(UserError) as err:
        install_requirements(req, house, _venv_dir(tmp_path), open(os.devnull, "w"))
    assert f"{req}:2: 'ns-a>=2.0'" in str(err.value)
    assert f"{req}:3: " in str(err.value)


def test_a_pin_without_a_wheel_and_an_unmet_dependency_are_refused(house, tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("demo-tool==2.0\n")
    shutil.copytree(house, tmp_path / "h")
    (tmp_path / "h/ns_b-1.1-py3-none-any.whl").unlink()
    (tmp_path / "h/ns_b-0.9-py3-none-any.whl").unlink()
    with pytest.raises(UserError) as err:
        install_requirements(req, tmp_path / "h", _venv_dir(tmp_path), open(os.devnull, "w"))
    assert f"{req}:1: demo-tool==2.0: no wheel of it" in str(err.value)
    req.write_text("demo-tool==1.0\n")
    with pytest.raises(UserError) as err:
        install_requirements(req, tmp_path / "h", _venv_dir(tmp_path), open(os.devnull, "w"))
    assert "needs ns-b>=1.0, which no pin and no wheel" in str(err.value)


def test_a_wheel_for_another_python_is_not_picked(house, tmp_path):
    shutil.copytree(house, tmp_path / "h")
    src = tmp_path / "h/ns_a-2.0-py3-none-any.whl"
    src.rename(tmp_path / "h/ns_a-2.0-cp39-cp39-manylinux2014_x86_64.whl")
    with pytest.raises(UserError) as err:
        install_requirements(tmp_path / "h/requirements.txt", tmp_path / "h",
                             _venv_dir(tmp_path), open(os.devnull, "w"))
    assert "ns-a==2.0: no wheel of it" in str(err.value)


def test_an_extra_asked_for_brings_its_dependencies(house, tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("extra-user==1.0\n")
    names = [w.name for w in resolve(req, wheelhouse(house), (3, 6))]
    assert names == ["extra-user"]
    req.write_text("extra-user[full]==1.0\n")
    chosen = resolve(req, wheelhouse(house), (3, 6))
    assert [(w.name, str(w.version)) for w in chosen] == [("extra-user", "1.0"), ("ns-b", "1.1")]


@pytest.mark.parametrize(("needs", "full", "refused"), [
    (">=3.7", "3.6.15", True),         # a py3-none-any wheel of a release after 3.6's
    (">=3.6.1", "3.6.15", False),      # a micro version: the interpreter's own decides
    (">=3.6.1", "", True),             # not known: X.Y.0 is assumed
    (">=2.7, !=3.0.*, !=3.1.*", "3.6.15", False),
    ("!=3.6.*", "3.6.15", True),
])
def test_requires_python_is_checked_against_the_releases_python(tmp_path, needs, full, refused):
    house = tmp_path / "h"
    house.mkdir()
    _wheel(house, "newer", "1.0", {"newer.py": (b"X = 1\n", 0o644)}, requires_python=needs)
    req = house / "requirements.txt"
    req.write_text("newer==1.0\n")
    if not refused:
        assert [w.name for w in resolve(req, wheelhouse(house), (3, 6), full)] == ["newer"]
        return
    with pytest.raises(UserError) as err:
        resolve(req, wheelhouse(house), (3, 6), full)
    assert f"newer-1.0-py3-none-any.whl: Requires-Python {needs}, and the release's Python " \
        f"is {full or '3.6.0'}" in str(err.value)


def test_installing_in_processes_writes_what_one_process_writes(house, tmp_path):
    """Wheels that write the same path (one file, one entry-point script) stay in one
    process, in order: the later one wins, as it does installed one by one."""
    shutil.copytree(house, tmp_path / "h")
    h = tmp_path / "h"
    for name, value in (("clash-a", b"A"), ("clash-b", b"B")):
        _wheel(h, name, "1.0", {"shared/data.txt": (value + b"\n", 0o644),
                                f"{name.replace('-', '_')}.py": (b"def main(): pass\n", 0o644)},
               entry_points=f"[console_scripts]\ntool = {name.replace('-', '_')}:main\n")
    (h / "requirements.txt").write_text("demo-tool==1.0\nns-a==2.0\nclash-a==1.0\n"
                                        "clash-b==1.0\nextra-user==1.0\n")
    chosen = resolve(h / "requirements.txt", wheelhouse(h), (3, 6))
    trees, records = {}, {}
    for jobs in (1, 2):  # the same venv path: scripts name their interpreter
        shutil.rmtree(tmp_path / "venv", ignore_errors=True)
        venv = _venv_dir(tmp_path)
        site = venv / "lib/python3.6/site-packages"
        if jobs == 2:
            groups = wheels._independent_groups(chosen, venv, site)
            together = [g for g in groups if any(w.name == "clash-a" for w in g)][0]
            assert [w.name for w in together] == ["clash-a", "clash-b"]
            assert len(groups) >= 3  # the test must run the processes' path
        verbatim = wheels.install(chosen, venv, jobs=jobs, parallel_from=0)
        trees[jobs] = _new_files(venv, set())
        records[jobs] = {os.path.relpath(p, venv) for p in verbatim}
    assert trees[2]["lib/python3.6/site-packages/shared/data.txt"][1] == b"B\n"
    assert b"clash_b" in trees[2]["bin/tool"][1]
    assert sorted(trees[2]) == sorted(trees[1])
    for rel in trees[1]:
        assert (rel, oct(trees[2][rel][0]), trees[2][rel][1]) == \
            (rel, oct(trees[1][rel][0]), trees[1][rel][1])
    assert records[2] == records[1]

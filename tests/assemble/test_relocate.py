"""Relocation of an environment installed under a staging prefix (packager/assemble/relocate)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from packager.assemble.python_env import PythonEnvSpec, build_python_env, normalise_dist_info
from packager.assemble.relocate import RelocationError, find_leftovers, relocate
from packager.errors import UserError

STAGE = "/tmp/some/long/staging/root"


def test_text_binary_symlink_and_bytecode(tmp_path):
    tree = tmp_path / "env"
    (tree / "bin").mkdir(parents=True)
    (tree / "lib/__pycache__").mkdir(parents=True)
    (tree / "bin/pip").write_text(f"#!{STAGE}/data/env/bin/python\nimport pip\n")
    (tree / "pyvenv.cfg").write_text(f"home = {STAGE}/data/conda/bin\n")
    blob = b"\x7fELF\0\0" + f"{STAGE}/data/env/lib\0".encode() + b"rest\0"
    (tree / "lib/libx.so").write_bytes(blob)
    (tree / "bin/python").symlink_to(f"{STAGE}/data/conda/bin/python3")
    (tree / "lib/__pycache__/m.cpython-36.pyc").write_bytes(STAGE.encode())
    done = relocate(tree, STAGE, "")
    assert (tree / "bin/pip").read_text().startswith("#!/data/env/bin/python\n")
    assert (tree / "pyvenv.cfg").read_text() == "home = /data/conda/bin\n"
    out = (tree / "lib/libx.so").read_bytes()
    assert len(out) == len(blob), "binaries keep their size (NUL padding)"
    assert out.startswith(b"\x7fELF\0\0/data/env/lib\0") and out.endswith(b"rest\0")
    assert os.readlink(tree / "bin/python") == "/data/conda/bin/python3"
    assert not (tree / "lib/__pycache__").exists()
    assert done.counts == {"text": 2, "binary": 1, "symlink": 1, "pycache": 1}
    assert done.changed == {str(tree / "bin/pip"), str(tree / "pyvenv.cfg"),
                            str(tree / "lib/libx.so")}
    assert done.leftovers == [] and find_leftovers(tree, STAGE) == []


def test_a_longer_prefix_is_refused(tmp_path):
    with pytest.raises(RelocationError):
        relocate(tmp_path, "/short", "/a/much/longer/prefix")


def test_record_is_rehashed_after_relocation(tmp_path):
    site = tmp_path / "site-packages"
    info = site / "pkg-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "pkg.py").write_text("x = 1\n")
    (info / "direct_url.json").write_text('{"url": "file:///tmp/build/pkg.whl"}')
    (info / "RECORD").write_text(
        "pkg.py,sha256=stale,3\n__pycache__/pkg.cpython-36.pyc,,\n"
        "pkg-1.0.dist-info/direct_url.json,sha256=x,10\npkg-1.0.dist-info/RECORD,,\n")
    normalise_dist_info(tmp_path, {str(site / "pkg.py")})
    assert not (info / "direct_url.json").exists()
    lines = (info / "RECORD").read_text().splitlines()
    # sha256 of "x = 1\n", urlsafe base64 without padding (PEP 376 / wheel RECORD)
    assert lines == ["pkg.py,sha256=nia_NpkRxFwkPGhBR7I_yeHc_PJX0pmhxjIBam_NM_Q,6",
                     "pkg-1.0.dist-info/RECORD,,"]


def test_source_distributions_are_refused_before_anything_runs(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "gmpy2-2.0.8.tar.gz").write_bytes(b"sdist")
    (wheels / "requirements.txt").write_text("gmpy2==2.0.8\n")
    installer = tmp_path / "installer.sh"
    installer.write_text("touch ran\n")
    spec = PythonEnvSpec(installer, None, wheels, wheels / "requirements.txt",
                         "/data/conda", "/data/venv")
    with pytest.raises(UserError, match="gmpy2-2.0.8.tar.gz"):
        build_python_env(spec, tmp_path / "stage", tmp_path / "log")
    assert not Path("ran").exists() and not (tmp_path / "stage").exists()


def test_only_rows_of_relocated_files_are_rehashed(tmp_path):
    """Files relocation did not touch keep pip's row (it is right for their bytes); a
    script reached through ``../`` in RECORD is matched by its normalised path."""
    site = tmp_path / "lib/python3.6/site-packages"
    info = site / "pkg-1.0.dist-info"
    info.mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    (site / "pkg.py").write_text("x = 1\n")
    (tmp_path / "bin/tool").write_text("#!/data/env/bin/python\n")
    (info / "RECORD").write_text("pkg.py,sha256=pips-own,6\n../../../bin/tool,sha256=old,30\n")
    normalise_dist_info(tmp_path, {os.path.normpath(tmp_path / "bin/tool")})
    lines = (info / "RECORD").read_text().splitlines()
    assert lines[0] == "pkg.py,sha256=pips-own,6"
    assert lines[1].startswith("../../../bin/tool,sha256=") and lines[1].endswith(",23")
    assert "old" not in lines[1]

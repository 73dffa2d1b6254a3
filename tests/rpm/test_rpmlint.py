"""rpmlint on the writer's output: clean except the findings accepted in specs/el7/rpmlintrc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from packager import resources
from packager.rpm import Compression, build_rpm
from packager.rpm.spec import package_from_dict

RPMLINT = Path(sys.executable).with_name("rpmlint")
pytestmark = pytest.mark.skipif(not RPMLINT.exists() or shutil.which("rpm") is None,
                                reason="rpmlint is a test dependency (pyproject [test])")


def lint(rpm: Path, env: dict | None = None) -> list[str]:
    rc = resources.el7() / "rpmlintrc"
    cmd = [str(RPMLINT), "--ignore-unused-rpmlintrc", "-r", str(rc), str(rpm)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return [line for line in (r.stdout + r.stderr).splitlines()
            if (": E: " in line or ": W: " in line) and "enchant" not in line]


@pytest.mark.parametrize("signed", [False, True])
def test_demo_package_is_rpmlint_clean(tmp_path, signed, rsa_signer):
    spec = resources.specs() / "demo" / "hello.yaml"
    pkg, _ = package_from_dict(yaml.safe_load(spec.read_text()), spec.parent, str(spec))
    rpm = build_rpm(pkg, tmp_path, compression=Compression("xz"), sde=1600000000,
                    signer=rsa_signer if signed else None).path
    env = None
    if signed:  # rpmlint checks the signature against the rpm keyring (~/.rpmdb on Debian)
        env = {**os.environ, "HOME": str(tmp_path)}
        key = tmp_path / "key.asc"
        key.write_bytes(rsa_signer.export_public_key())
        subprocess.run(["rpm", "--import", str(key)], env=env, check=True)
    assert lint(rpm, env) == []


def test_rpmlint_does_find_real_problems(tmp_path):
    """The filter list must not hide everything: a package in /opt with no docs is flagged."""
    spec = resources.specs() / "demo" / "hello.yaml"
    data = yaml.safe_load(spec.read_text())
    data["files"] = [{"src": "hello/README", "dst": "/opt/fate-bad/README"}]
    pkg, _ = package_from_dict(data, spec.parent, str(spec))
    found = lint(build_rpm(pkg, tmp_path, sde=1600000000).path)
    assert any("dir-or-file-in-opt" in line for line in found)

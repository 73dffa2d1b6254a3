"""`fate-pkg inspect --files` agrees with the real rpm's `--dump` on every field it shows."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def fate_pkg(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "packager.cli", *args], cwd=cwd,
                          capture_output=True, text=True, check=True)


@pytest.mark.skipif(shutil.which("rpm") is None,
                    reason="needs the real rpm (scripts/apt-packages.txt)")
def test_files_match_rpm_dump(tmp_path: Path) -> None:
    fate_pkg("rpm", str(REPO / "specs/demo/hello.yaml"), "-o", str(tmp_path),
             "--compression", "gzip:1", cwd=REPO)
    rpm = tmp_path / "fate-demo-1.0.0-1.noarch.rpm"
    listed = json.loads(fate_pkg("inspect", "--files", "--json", str(rpm), cwd=REPO).stdout)
    dump = subprocess.run(["rpm", "-qp", "--dump", str(rpm)], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    ours = {f["path"]: f for f in listed["filelist"]}
    assert len(ours) == len(dump) == listed["files"]
    for line in dump:
        path, size, mtime, digest, mode, owner, group, config, doc, _rdev, link = line.split()
        entry = ours[path]
        assert entry["size"] == int(size)
        assert entry["mtime"] == int(mtime)
        assert (entry["digest"] or "0" * 64) == digest
        assert int(entry["mode"], 8) == int(mode, 8)
        assert (entry["owner"], entry["group"]) == (owner, group)
        assert ("config" in entry["flags"]) == (config == "1")
        assert ("doc" in entry["flags"]) == (doc == "1")
        assert (entry["link"] or "X") == link
    assert ours["/etc/fate-demo/fate-demo.conf"]["flags"] == ["config", "noreplace"]
    assert ours["/var/log/fate-demo/fate-demo.log"]["flags"] == ["ghost"]
    human = fate_pkg("inspect", "--files", str(rpm), cwd=REPO).stdout.splitlines()
    conf = next(line for line in human if line.endswith(" /etc/fate-demo/fate-demo.conf"))
    assert conf.split()[:4] == ["-rw-r--r--", "root", "root", "config,noreplace"]
    assert ours["/etc/fate-demo/fate-demo.conf"]["digest"] in conf

"""Fixtures for fate-configure: a scratch install root, the CLI run in-process, snapshots."""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, NamedTuple, Tuple

import pytest

from packager.onhost.configure import cli

DATA = Path(__file__).parent / "data"
UNITS = ("fate-mysql", "fate-clustermanager", "fate-nodemanager", "fate-rollsite", "fate-flow",
         "fate-board")
APP_UID = 6000  # the reference's app:apps (gid 6000); exists only inside the scratch root


class Result(NamedTuple):
    rc: int
    out: str
    err: str


def make_root(root: Path) -> Path:
    """A tree that looks like an installed target: accounts, and the RPMs' unit files."""
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(f"root:x:0:0:root:/root:/bin/bash\n"
                                     f"app:x:{APP_UID}:{APP_UID}::/home/app:/bin/bash\n")
    (root / "etc/group").write_text(f"root:x:0:\napps:x:{APP_UID}:\n")
    unit_dir = root / "usr/lib/systemd/system"
    unit_dir.mkdir(parents=True)
    for unit in UNITS:
        (unit_dir / f"{unit}.service").write_text(
            f"[Unit]\nDescription={unit}\nPartOf=fate.target\n"
            f"ConditionPathExists=/etc/fate/env/{unit}.env\n\n"
            "[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=fate.target\n")
    (unit_dir / "fate.target").write_text("[Unit]\nDescription=FATE\n\n[Install]\n"
                                          "WantedBy=multi-user.target\n")
    return root


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    return make_root(tmp_path / "root")


@pytest.fixture
def short_root():
    """Like scratch_root, but with a short path: a MySQL socket path must fit 107 bytes."""
    base = Path(tempfile.mkdtemp(prefix="fc-"))
    os.chmod(base, 0o755)
    try:
        yield make_root(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def fc(capsys):
    """Run ``fate-configure ARGS`` in-process; returns (rc, stdout, stderr)."""
    def run(*args: str) -> Result:
        rc = cli.main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(rc, captured.out, captured.err)
    return run


def party_file(tmp_path: Path, text: str, name: str = "party.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def snapshot(root: Path) -> Dict[str, Tuple]:
    """Every path under root with type, mode, owner and content hash (or link target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            if os.path.islink(path):
                what = ("link", os.readlink(path))
            elif os.path.isdir(path):
                what = ("dir",)
            else:
                with open(path, "rb") as handle:
                    what = ("file", hashlib.sha256(handle.read()).hexdigest())
            out[os.path.relpath(path, root)] = what + (info.st_mode, info.st_uid, info.st_gid)
    return out

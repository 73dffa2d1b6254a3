"""What the fate-configure and fate-ctl tests share: the test inputs, a scratch tree that looks
like an installed host, party files and snapshots of a tree.

On-host test helpers: Python 3.6, nothing of the build side (they run in the 3.6 pass of
tests/onhost/test_on_python36.py too). The fixtures are in tests/onhost/configure/conftest.py.
"""

import hashlib
import os
from pathlib import Path
from typing import Dict, NamedTuple, Tuple

#: The test inputs (ansible-nfate var files, a party over three hosts): see its README.
DATA = Path(__file__).resolve().parents[1] / "onhost" / "configure" / "data"
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

"""What the unit-file and fate-ctl tests share (tests/units on the build side,
tests/onhost/units on-host): a free port, a unit-file reader, executables written on the fly.

Python 3.6 (the on-host tests run in the 3.6 pass of tests/onhost/test_on_python36.py too).
The fixtures (a listening socket, a fake systemctl) are in tests/onhost/units/conftest.py.
"""

import socket
import stat
import sys
from pathlib import Path
from typing import List, Tuple

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def closed_port() -> int:
    """A port nothing listens on: bound then released (nobody else grabs it this fast)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_unit(text: str) -> List[Tuple[str, str, str]]:
    """(section, key, value) for every directive, in order; duplicates kept as systemd does."""
    out, section = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.append((section, key, value))
    return out


def values(entries: List[Tuple[str, str, str]], section: str, key: str) -> List[str]:
    return [v for s, k, v in entries if s == section and k == key]


def write_exe(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path

"""Shared helpers for the units/fate-ctl tests: real sockets, a unit-file reader, fake systemctl."""

import socket
import stat
import sys
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """A real TCP server socket on 127.0.0.1 (port in ``.getsockname()[1]``)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    try:
        yield srv
    finally:
        srv.close()


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


@pytest.fixture
def fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``systemctl`` first on PATH: logs its argv, answers ``show UNIT -p ...`` from
    ``<dir>/state/UNIT`` files (KEY=VALUE lines), LoadState=not-found otherwise."""
    bindir = tmp_path / "fakebin"
    state = bindir / "state"
    state.mkdir(parents=True)
    write_exe(bindir / "systemctl", f"""#!/bin/sh
echo "$*" >> {bindir}/calls.log
if [ "$1" = show ]; then
    if [ -f "{state}/$2" ]; then cat "{state}/$2"; else echo LoadState=not-found; fi
fi
exit 0
""")
    monkeypatch.setenv("PATH", f"{bindir}:{Path(PYTHON).parent}:/usr/bin:/bin")
    return bindir

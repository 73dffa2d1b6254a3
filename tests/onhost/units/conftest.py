"""Fixtures for the fate-ctl, fate-waitport, probe and supervisor tests: a real listening
socket, a fake systemctl first on PATH."""

import socket
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.units import PYTHON, write_exe


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

"""The offline guard blocks real network operations and nothing else."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from packager.cli import main
from packager.netguard import NetworkBlocked, active, offline


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real TCP listener on loopback, opened before the guard."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.2)
    yield srv
    srv.close()


def _nobody_connected(srv: socket.socket) -> bool:
    try:
        conn, _ = srv.accept()
    except TimeoutError:
        return True
    conn.close()
    return False


def test_tcp_connect_is_blocked_and_never_reaches_the_server(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    with offline() as guard:
        sock = socket.socket()
        with pytest.raises(NetworkBlocked, match=rf"connect to \('127.0.0.1', {port}\)"):
            sock.connect(("127.0.0.1", port))
        with pytest.raises(NetworkBlocked):
            sock.connect_ex(("127.0.0.1", port))
        sock.close()
    assert _nobody_connected(listener)
    assert guard.attempts == [f"connect to ('127.0.0.1', {port})"] * 2
    # outside the guard the same connection works again
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert not _nobody_connected(listener)


def test_requests_gets_the_error_unwrapped(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    with offline(), pytest.raises(NetworkBlocked, match="network access attempted while offline"):
        requests.get(f"http://127.0.0.1:{port}/x", timeout=2)
    assert _nobody_connected(listener)


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (lambda: socket.getaddrinfo("deb.debian.org", 443), "name lookup of 'deb.debian.org'"),
        (lambda: socket.gethostbyname("pypi.org"), "name lookup of 'pypi.org'"),
        (lambda: socket.gethostbyaddr("127.0.0.1"), "name lookup of '127.0.0.1'"),
        (lambda: socket.socket().bind(("127.0.0.1", 0)), r"bind on \('127.0.0.1', 0\)"),
        (lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9)),
         r"sendto \('127.0.0.1', 9\)"),
        (lambda: socket.socket(socket.AF_INET6).connect(("::1", 9)), r"connect to \('::1', 9"),
    ],
)
def test_other_network_operations_are_blocked(operation: object, message: str) -> None:
    with offline(), pytest.raises(NetworkBlocked, match=message):
        operation()  # type: ignore[operator]


def test_unix_sockets_and_hostname_stay_allowed(tmp_path: Path) -> None:
    with offline() as guard:
        left, right = socket.socketpair()
        left.sendall(b"ping")
        assert right.recv(4) == b"ping"
        left.close()
        right.close()
        path = str(tmp_path / "agent.sock")
        with socket.socket(socket.AF_UNIX) as srv:
            srv.bind(path)
            srv.listen()
            with socket.socket(socket.AF_UNIX) as cli:
                cli.connect(path)
        assert socket.gethostname()
    assert guard.attempts == []


def test_other_threads_are_blocked_and_swallowed_attempts_are_recorded(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    seen: list[BaseException] = []

    def worker() -> None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1)
        except BaseException as exc:  # a library that swallows errors
            seen.append(exc)

    with offline() as guard:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(5)
    assert len(seen) == 1 and isinstance(seen[0], NetworkBlocked)
    assert guard.attempts == ["name lookup of '127.0.0.1' (getaddrinfo)"]
    assert _nobody_connected(listener)


def test_nested_guards_and_active_flag() -> None:
    assert not active()
    with offline():
        with offline():
            assert active()
        assert active()
        with pytest.raises(NetworkBlocked):
            socket.getaddrinfo("localhost", 80)
    assert not active()
    assert socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)


def test_fetch_under_the_guard_names_the_blocked_artifact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A blocked attempt surfaces as one line naming what was tried, never a traceback."""
    manifest = tmp_path / "r.yaml"
    manifest.write_text("release: r\nversion: '1'\nartifacts:\n  - name: a.tar.gz\n"
                        "    url: http://mirror.invalid/a.tar.gz\n    component: java\n")
    with offline():
        code = main(["fetch", "--release", str(manifest), "--cache", str(tmp_path / "c"),
                     "--json"])
    assert code == 1  # the artifact failed; the run did not crash
    err = capsys.readouterr().err
    assert "a.tar.gz: network access attempted while offline: name lookup of " \
           "'mirror.invalid'" in err

"""Each readiness protocol gets its answer only from a server that speaks it."""

import http.server
import socket
import struct
import threading

import pytest

from packager.onhost import probe
from tests.support.units import closed_port

#: A MySQL 8.0 protocol-10 greeting, byte for byte as the server's first packet starts.
GREETING = (b"\x0a" + b"8.0.13\x00" + struct.pack("<I", 42) + b"abcdefgh\x00"
            + b"\xff\xf7\x21\x02\x00\xff\xc1\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00"
            + b"caching_sha2_password\x00")


class _Greeter(threading.Thread):
    """Speaks first, like mysqld: one packet to every client, then closes."""

    def __init__(self, payload: bytes) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.packet = struct.pack("<I", len(payload))[:3] + b"\x00" + payload

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.sendall(self.packet)
            conn.close()


@pytest.fixture
def mysqlish():
    server = _Greeter(GREETING)
    server.start()
    yield server.sock.getsockname()[1]
    server.sock.close()


@pytest.fixture
def http_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def ask(port: int, protocol: str) -> str:
    return probe.probe(probe.Endpoint("127.0.0.1", port, protocol), timeout=1.0)


def test_http_answers_http_only(http_server, mysqlish, listening):
    assert ask(http_server, "http") == probe.ANSWERING
    assert ask(mysqlish, "http") == probe.NOT_ANSWERING
    assert ask(listening.getsockname()[1], "http") == probe.NOT_ANSWERING


def test_mysql_answers_the_mysql_greeting_only(http_server, mysqlish, listening):
    assert ask(mysqlish, "mysql") == probe.ANSWERING
    assert ask(http_server, "mysql") == probe.NOT_ANSWERING
    assert ask(listening.getsockname()[1], "mysql") == probe.NOT_ANSWERING


def test_grpc_needs_an_http2_settings_frame(http_server, mysqlish):
    assert ask(http_server, "grpc") == probe.NOT_ANSWERING
    assert ask(mysqlish, "grpc") == probe.NOT_ANSWERING


def test_tls_needs_a_tls_server(http_server):
    assert ask(http_server, "grpc-tls") == probe.NOT_ANSWERING


def test_nothing_listening_is_down_and_tcp_is_a_connect(listening):
    assert ask(closed_port(), "http") == probe.DOWN
    assert ask(listening.getsockname()[1], "tcp") == probe.ANSWERING
    assert probe.probe(probe.Endpoint("no-such-host.invalid", 80, "http")) == probe.DOWN


@pytest.mark.parametrize("text,endpoint", [
    ("grpc://10.0.0.2:4670", probe.Endpoint("10.0.0.2", 4670, "grpc")),
    ("[::1]:3306", probe.Endpoint("::1", 3306, "tcp")),
    ("mysql://[::1]:3306", probe.Endpoint("::1", 3306, "mysql")),
])
def test_endpoints_parse_and_print_back(text, endpoint):
    assert probe.parse_endpoint(text) == endpoint
    assert str(endpoint) == text


@pytest.mark.parametrize("text", ["ftp://h:1", "h", "http://h:0", "http://:80"])
def test_bad_endpoints_are_refused(text):
    with pytest.raises(ValueError):
        probe.parse_endpoint(text)

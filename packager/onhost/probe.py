"""Ask a port a question only the expected service answers (docs/readiness.md).

A TCP connect proves little: a port can accept and never answer (a hung JVM, a process
that bound it and stopped), and on some networks every outgoing connect "succeeds" at a
middlebox. So each FATE port is asked in its own protocol:

- ``http``: ``GET / HTTP/1.0``; any ``HTTP/1.x`` status line answers (fate_flow 9380,
  fateboard 8080);
- ``mysql``: the server speaks first; a protocol-10 handshake (or a MySQL error packet,
  e.g. "host is not allowed") answers (3306);
- ``grpc``: the HTTP/2 connection preface; a server SETTINGS frame answers (eggroll's
  cluster and node managers, rollsite, fate_flow 9360);
- ``grpc-tls``: a TLS handshake; a ServerHello or a TLS alert answers (rollsite's secure
  port);
- ``tcp``: a connect is enough (endpoints written without a protocol).

Endpoints are written ``[PROTOCOL://]HOST:PORT`` (``grpc://10.0.0.2:4670``), as
fate-configure puts them in ``FATE_LISTEN`` and ``FATE_WAIT_FOR``.
"""

import socket
import ssl
import struct
from typing import List, NamedTuple

#: The catalogue's protocols (packager/onhost/catalogue.py) and ``tcp``.
PROTOCOLS = ("tcp", "http", "mysql", "grpc", "grpc-tls")
#: Results of :func:`probe`.
ANSWERING, NOT_ANSWERING, DOWN = "answering", "not answering", "down"

_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_H2_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # empty SETTINGS, stream 0


class Endpoint(NamedTuple):
    host: str
    port: int
    protocol: str = "tcp"

    def __str__(self) -> str:
        where = ("[%s]:%d" if ":" in self.host else "%s:%d") % (self.host, self.port)
        return where if self.protocol == "tcp" else f"{self.protocol}://{where}"


def parse_endpoint(text: str) -> Endpoint:
    """``grpc://10.0.0.2:4670``, ``[::1]:3306`` ... as an :class:`Endpoint`."""
    protocol, sep, rest = text.partition("://")
    if not sep:
        protocol, rest = "tcp", text
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r} in {text!r} "
                         f"(known: {', '.join(PROTOCOLS)})")
    host, sep, port = rest.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a host:port: {text!r}")
    return Endpoint(host, int(port), protocol)


def parse_endpoints(value: str) -> List[Endpoint]:
    return [parse_endpoint(item) for item in value.split()]


def probe(endpoint: Endpoint, timeout: float = 1.0) -> str:
    """``answering``, ``not answering`` (the port accepts, the reply is missing or wrong)
    or ``down`` (nothing accepts; a name that does not resolve yet counts as down)."""
    try:
        infos = socket.getaddrinfo(endpoint.host, endpoint.port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return DOWN
    result = DOWN
    for family, socktype, proto, _name, addr in infos:
        sock = socket.socket(family, socktype, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(addr)
        except OSError:
            sock.close()
            continue
        try:
            if endpoint.protocol == "tcp" or _ASK[endpoint.protocol](sock, endpoint):
                return ANSWERING
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            sock.close()
        result = NOT_ANSWERING
    return result


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _http(sock: socket.socket, endpoint: Endpoint) -> bool:
    request = f"GET / HTTP/1.0\r\nHost: {endpoint.host}\r\nUser-Agent: fate-waitport\r\n\r\n"
    sock.sendall(request.encode("ascii"))
    head = _read(sock, 12)
    return head[:7] == b"HTTP/1." and head[8:9] == b" " and head[9:12].isdigit()


def _mysql(sock: socket.socket, endpoint: Endpoint) -> bool:
    header = _read(sock, 4)
    if len(header) < 4:
        return False
    length = struct.unpack("<I", header[:3] + b"\x00")[0]
    body = _read(sock, min(length, 64))
    if header[3] != 0 or not body:
        return False
    # protocol 10 handshake: version, NUL-terminated server version string
    if body[0] == 0x0A:
        return b"\x00" in body[1:]
    return body[0] == 0xFF and len(body) >= 3  # ERR packet: the server refused us


def _grpc(sock: socket.socket, endpoint: Endpoint) -> bool:
    sock.sendall(_H2_PREFACE + _H2_SETTINGS)
    frame = _read(sock, 9)
    # length (3), type (1) = SETTINGS (4), flags (1), stream id (4) = 0
    return len(frame) == 9 and frame[3] == 0x04 and frame[5:9] == b"\x00\x00\x00\x00"


def _tls(sock: socket.socket, endpoint: Endpoint) -> bool:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        context.wrap_socket(sock, server_hostname=endpoint.host).close()
        return True
    except ssl.SSLError as exc:
        # The server spoke TLS and refused us (e.g. it wants a client certificate).
        return "ALERT" in (getattr(exc, "reason", None) or "").upper()


_ASK = {"http": _http, "mysql": _mysql, "grpc": _grpc, "grpc-tls": _tls}


def answers(endpoint: Endpoint, timeout: float = 1.0) -> bool:
    return probe(endpoint, timeout) == ANSWERING

"""A misbehaving artifact mirror on loopback: real sockets, real HTTP/1.1, real Range.

Each served file can be told to fail in the ways real mirrors do: answer 503 a few times,
drop the connection part-way through the body, or serve corrupted bytes. Every request is
logged (path, Range, If-Range, status) so tests can check what the client really sent.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    data: bytes
    etag: str = ""
    fail_503: int = 0  # answer 503 to this many requests first
    drop_after: int | None = None  # close the connection after this many body bytes...
    drops: int = 0  # ...this many times
    corrupt: bool = False  # flip a byte in the middle
    delay: float = 0.0  # sleep before sending the body (to see parallel downloads)
    throttle: int = 0  # send the body in pieces of this size, 20 ms apart
    ranges: bool = True  # False: ignore Range like a server that cannot resume
    headers: dict = field(default_factory=dict)  # more response headers (Content-Encoding)

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.sha256(self.data).hexdigest()[:16] + '"'


@dataclass
class Request:
    path: str
    range: str | None
    if_range: str | None
    status: int


@dataclass
class Mirror:
    files: dict[str, Served] = field(default_factory=dict)
    log: list[Request] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests_for(self, name: str) -> list[Request]:
        return [r for r in self.log if r.path == "/" + name]


_RANGE = re.compile(r"^bytes=(\d+)-$")


def _handler(mirror: Mirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def _log(self, status: int) -> None:
            with mirror.lock:
                mirror.log.append(Request(self.path, self.headers.get("Range"),
                                          self.headers.get("If-Range"), status))

        def do_GET(self) -> None:  # noqa: N802
            with mirror.lock:
                mirror.active += 1
                mirror.max_active = max(mirror.max_active, mirror.active)
            try:
                self._get()
            finally:
                with mirror.lock:
                    mirror.active -= 1

        def _get(self) -> None:
            served = mirror.files.get(self.path.lstrip("/"))
            if served is None:
                self._log(404)
                self.send_error(404)
                return
            if served.fail_503 > 0:
                served.fail_503 -= 1
                self._log(503)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = served.data
            if served.corrupt:
                mid = len(data) // 2
                data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
            start = 0
            match = _RANGE.match(self.headers.get("Range", ""))
            if_range = self.headers.get("If-Range")
            if match and served.ranges and (if_range is None or if_range == served.etag):
                start = int(match.group(1))
                if start >= len(data):
                    self._log(416)
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                status = 206
            else:
                self.send_response(200)
                status = 200
            self._log(status)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", served.etag)
            self.send_header("Accept-Ranges", "bytes")
            for key, value in served.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if served.delay:
                time.sleep(served.delay)
            if served.drops > 0 and served.drop_after is not None:
                served.drops -= 1
                self.wfile.write(body[: served.drop_after])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if served.throttle:
                try:
                    for at in range(0, len(body), served.throttle):
                        self.wfile.write(body[at : at + served.throttle])
                        self.wfile.flush()
                        time.sleep(0.02)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


class MirrorServer:
    """Context manager: start the mirror on 127.0.0.1 in a thread, stop it on exit."""

    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(mirror))
        self.httpd.daemon_threads = True
        mirror.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Mirror:
        self.thread.start()
        return self.mirror

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class ForwardProxy:
    """A minimal HTTP forward proxy (absolute-URI GET only) that records what it relayed."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                proxy.seen.append(self.path)
                match = re.match(r"^http://([^/:]+):(\d+)(/.*)$", self.path)
                if not match:
                    self.send_error(400, "absolute URI expected")
                    return
                host, port, path = match.group(1), int(match.group(2)), match.group(3)
                with socket.create_connection((host, port), timeout=10) as upstream:
                    head = f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n"
                    for key in ("Range", "If-Range", "Accept-Encoding", "User-Agent"):
                        if self.headers.get(key):
                            head += f"{key}: {self.headers[key]}\r\n"
                    upstream.sendall(head.encode() + b"\r\n")
                    reply = b""
                    while chunk := upstream.recv(65536):
                        reply += chunk
                self.close_connection = True
                self.wfile.write(reply)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> ForwardProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

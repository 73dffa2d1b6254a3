#!/usr/bin/env python3
"""A loopback HTTP/1.1 file server with Range and ETag, for the fetch benchmark.

``python bench/fileserver.py DIR LOG`` serves the files of DIR on 127.0.0.1 (a free port,
printed on stdout as its first line) with ``sendfile``, so the server costs next to no CPU
and the client is what is measured. Every request is appended to LOG as one JSON line
(path, the Range start asked for, bytes sent), which is how the benchmark checks that a
resumed download asks only for the bytes not yet on disk.
"""

from __future__ import annotations

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"^bytes=(\d+)-$")


def handler(root: Path, log: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            path = root / self.path.lstrip("/")
            if "/" in self.path.lstrip("/") or not path.is_file():
                self.send_error(404)
                return
            st = path.stat()
            etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
            match = _RANGE.match(self.headers.get("Range", ""))
            start = int(match.group(1)) if match and self.headers.get(
                "If-Range", etag) == etag else 0
            if start:
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{st.st_size - 1}/{st.st_size}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(st.st_size - start))
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            sent: int | None = None  # None: the client went away part-way
            try:
                with open(path, "rb") as f:
                    sent = self.connection.sendfile(f, offset=start, count=st.st_size - start)
            except OSError:
                self.close_connection = True
            with open(log, "a") as out:
                out.write(json.dumps({"path": self.path, "start": start, "sent": sent}) + "\n")

    return Handler


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root, log = Path(sys.argv[1]), Path(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(root, log))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""Config reading, logging, HTTP serving and peer checks for the stand-in services.

Every stand-in must fail loudly, with one line naming what is wrong, when the real
service would fail: a missing key, a wrong password, a port in use, a peer not answering.
``Fatal`` carries that line; ``run_main`` prints it and exits 1.
"""

import json
import logging
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

LOG_FORMAT = ("[%(levelname)s] [%(asctime)s] [%(process)d:%(thread)d] - "
              "%(filename)s[line:%(lineno)d]: %(message)s")


class Fatal(Exception):
    """A startup failure the operator must fix; the message is the whole diagnosis."""


def peer_timeout():
    """Seconds a service waits for the peers it depends on (FATE_SAMPLE_PEER_TIMEOUT)."""
    return float(os.environ.get("FATE_SAMPLE_PEER_TIMEOUT", "60"))


def heartbeat_interval():
    return float(os.environ.get("FATE_SAMPLE_HEARTBEAT_INTERVAL", "5"))


def read_properties(path):
    """Java-style ``key=value`` file; ``#``/``!`` comments and ``[section]`` lines skipped."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise Fatal(f"cannot read config file {path}: {exc.strerror}") from None
    props = {}
    for line in lines:
        text = line.strip()
        if not text or text[0] in "#!" or (text.startswith("[") and text.endswith("]")):
            continue
        sep = min([i for i in (text.find("="), text.find(":")) if i >= 0] or [-1])
        if sep < 0:
            props[text] = ""
        else:
            props[text[:sep].strip()] = text[sep + 1:].strip()
    return props


def require(conf, key, source):
    """The value of ``key`` or a Fatal naming the key and the file."""
    value = conf.get(key)
    if value is None or value == "":
        raise Fatal(f"missing key {key} in {source}")
    return value


def require_int(conf, key, source):
    value = require(conf, key, source)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Fatal(f"key {key} in {source} must be a number, not {value!r}") from None


def dig(tree, dotted, source):
    """``tree['a']['b']`` for ``'a.b'``, or a Fatal naming the missing key."""
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node or node[part] is None:
            raise Fatal(f"missing key {dotted} in {source}")
        node = node[part]
    return node


def parse_jdbc_url(url, source):
    """``jdbc:mysql://host:port/db?opts`` -> (host, port, db)."""
    if not url.startswith("jdbc:mysql://"):
        raise Fatal(f"{source}: unsupported JDBC URL {url!r} (expected jdbc:mysql://host:port/db)")
    parsed = urllib.parse.urlsplit(url[len("jdbc:"):])
    database = parsed.path.lstrip("/")
    if not parsed.hostname or not database:
        raise Fatal(f"{source}: JDBC URL {url!r} lacks a host or a database")
    return parsed.hostname, parsed.port or 3306, database


def setup_logging(log_dir, filename, name):
    """Log to ``log_dir/filename`` (created) and to stderr, in FATE's line format."""
    try:
        os.makedirs(log_dir, exist_ok=True)
        handler = logging.FileHandler(os.path.join(log_dir, filename))
    except OSError as exc:
        raise Fatal(f"cannot write logs to {log_dir}: {exc.strerror}") from None
    fmt = logging.Formatter(LOG_FORMAT)
    handler.setFormatter(fmt)
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(fmt)
    err.setLevel(logging.WARNING)
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler, err]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def mysql_connect(host, port, user, password, database, what):
    """Connect with the configured credentials or raise Fatal quoting the server."""
    import fate_sample_mysql

    try:
        return fate_sample_mysql.connect(host=host, port=port, user=user, password=password,
                                         database=database)
    except fate_sample_mysql.MySQLError as exc:
        raise Fatal(f"{what}: cannot use MySQL database {database} at {host}:{port} "
                    f"as {user}: {exc.message}") from None


# -- HTTP -----------------------------------------------------------------------------------
class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


#: A gRPC client's first bytes (RFC 7540 section 3.5), as a request line and the rest.
H2_PREFACE_LINE, H2_PREFACE_REST = b"PRI * HTTP/2.0\r\n", b"\r\nSM\r\n\r\n"
#: What a gRPC server (Netty, grpc-core) sends first: its SETTINGS frame (here empty),
#: then, as this stand-in serves no gRPC calls, GOAWAY (last stream 0, NO_ERROR).
H2_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
H2_GOAWAY = b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + b"\x00" * 8


class JsonHandler(BaseHTTPRequestHandler):
    """Routes ``(method, path)`` to ``server.routes``; bodies and answers are JSON.

    On a port the real service serves gRPC (``server.h2``), a client's HTTP/2 preface
    gets the server's first frames, so a readiness probe (fate-waitport's ``grpc``) gets
    the answer a real eggroll or fate_flow gRPC port gives; the stand-ins' own calls stay
    HTTP/1.0 JSON."""

    protocol_version = "HTTP/1.0"

    def parse_request(self):
        if getattr(self.server, "h2", False) and self.raw_requestline == H2_PREFACE_LINE:
            if self.rfile.read(len(H2_PREFACE_REST)) == H2_PREFACE_REST:
                self.wfile.write(H2_SETTINGS + H2_GOAWAY)
            self.close_connection = True
            return False
        return BaseHTTPRequestHandler.parse_request(self)

    def _dispatch(self, method):
        path = urllib.parse.urlsplit(self.path).path
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        route = self.server.routes.get((method, path))
        if route is None:
            return self._reply(404, {"retcode": 404, "retmsg": "no route " + path})
        body = {}
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            try:
                body = json.loads(self.rfile.read(length).decode("utf-8"))
            except ValueError:
                return self._reply(400, {"retcode": 400, "retmsg": "body is not JSON"})
        try:
            status, answer = route(body, query)
        except Exception as exc:  # a handler bug must not kill the service
            self.server.logger.exception("handler for %s failed", path)
            status, answer = 500, {"retcode": 500, "retmsg": str(exc)}
        self._reply(status, answer)

    def _reply(self, status, answer):
        if isinstance(answer, bytes):
            data, ctype = answer, "application/octet-stream"
        elif isinstance(answer, str):
            data, ctype = answer.encode("utf-8"), "text/html; charset=utf-8"
        else:
            data, ctype = json.dumps(answer).encode("utf-8"), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def log_message(self, fmt, *args):
        self.server.logger.debug("http: " + fmt, *args)


def serve(host, port, routes, logger, what, tls=None, h2=False):
    """Bind ``host:port`` (Fatal if taken) and serve ``routes`` in a daemon thread.

    ``tls``: an ``ssl.SSLContext`` for a server-side TLS listener (handshakes happen on
    accept; a client that fails one is dropped and logged by socketserver).
    ``h2``: the real service speaks gRPC here: answer an HTTP/2 preface as it would.
    """
    try:
        server = _Server((host, int(port)), JsonHandler)
    except OSError as exc:
        raise Fatal(f"{what} cannot listen on {host}:{port}: {exc.strerror} "
                    "(port in use?)") from None
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.routes = routes
    server.logger = logger
    server.h2 = h2
    thread = threading.Thread(target=server.serve_forever, name=f"http-{port}")
    thread.daemon = True
    thread.start()
    logger.info("%s listening on %s:%s", what, host, port)
    return server


def http_json(method, url, body=None, timeout=10.0, tls=None):
    """(status, decoded JSON) of one request; OSError if nothing answers.

    ``tls``: an ``ssl.SSLContext`` for https:// URLs (client certificate and CA).
    """
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=tls) as resp:
            raw, status = resp.read(), resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    except urllib.error.URLError as exc:
        raise OSError(str(exc.reason)) from None
    try:
        return status, json.loads(raw.decode("utf-8"))
    except ValueError:
        return status, {"raw": raw.decode("utf-8", "replace")}


def healthy(host, port, timeout=2.0):
    """True when ``http://host:port/health`` answers 200."""
    try:
        status, _ = http_json("GET", f"http://{host}:{port}/health", timeout=timeout)
    except (OSError, socket.timeout):
        return False
    return status == 200


def wait_healthy(peers, timeout, logger):
    """Wait until every ``(what, host, port)`` answers; Fatal naming the first that never did."""
    deadline = time.time() + timeout
    for what, host, port in peers:
        while not healthy(host, port):
            if time.time() >= deadline:
                raise Fatal(f"{what} at {host}:{port} did not answer within {timeout:.0f}s")
            time.sleep(0.3)
        logger.info("%s at %s:%s answers", what, host, port)


def run_main(component, main):
    """Run ``main()``; a Fatal becomes one line on stderr and exit status 1."""
    try:
        main()
    except Fatal as exc:
        logging.getLogger(component).error("%s", exc)
        sys.stderr.write(f"{component}: error: {exc}\n")
        sys.stderr.flush()
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


def wait_forever(stop_event=None):
    """Block the main thread until SIGTERM/SIGINT (which exit the process)."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    event = stop_event or threading.Event()
    while not event.wait(3600):
        pass

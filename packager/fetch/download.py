"""One resumable HTTP download into a ``.part`` file.

Upstream artifacts are large (a JDK is 190 MB, the pip bundle over 1 GB) and come from
mirrors that drop connections and answer 503 under load. So a download:

* appends to an existing ``.part`` file with ``Range: bytes=N-``; ``If-Range`` with the
  ETag / Last-Modified seen when the file was started makes the server send the whole file
  again if it changed in between (a 200 instead of a 206 restarts from zero);
* retries 5xx/429 answers, connection resets, timeouts and short bodies with exponential
  backoff; an attempt that moved bytes does not use up the retry budget, so a mirror that
  drops the connection every few megabytes still gets the file through;
* does not retry 4xx answers: a wrong URL does not become right by asking again.

Checking the bytes against the manifest is the cache's job (``Cache.commit``).

The body loop is built to keep up with ``curl -o`` (bench/fetch.py): one socket read per
iteration (``read1``: whatever has arrived, up to 1 MiB, so progress and Ctrl-C stay prompt
on a slow link), one unbuffered ``write``, and the sha256 on a thread of its own: hashlib
releases the GIL for large updates, so on two cores the hash runs beside the socket reads
instead of after each of them. The bytes are taken as sent (no Content-Encoding decoding,
as ``curl -o``): we ask for ``identity``, and a mirror that labels a ``.tar.gz`` as gzip
encoded must not have it unpacked.
"""

from __future__ import annotations

import hashlib
import json
import queue
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import requests
import urllib3

from packager import __version__

USER_AGENT = f"fate-pkg/{__version__}"
_CONTENT_RANGE = re.compile(r"^bytes\s+(\d+)-(\d+)/(\d+|\*)$")
_UNSATISFIABLE = re.compile(r"^bytes\s+\*/(\d+)$")


class DownloadError(Exception):
    """The download failed for good (after retries, or an answer not worth retrying)."""


class _Retryable(Exception):
    """An answer or a network event that another attempt may get past."""


@dataclass(frozen=True)
class Policy:
    """Retry and timeout settings; tests shrink the delays."""

    retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 30.0
    connect_timeout: float = 15.0
    read_timeout: float = 60.0
    #: the most one socket read returns (on loopback one read fills about 1 MiB; larger
    #: chunks measured slower: they no longer stay in the cache between write and hash)
    chunk: int = 1 << 20
    #: hard stop for attempts that did make progress (a server dropping after every byte)
    max_attempts: int = 200


DEFAULT_POLICY = Policy()


@dataclass
class Result:
    size: int
    resumed: bool
    attempts: int
    #: sha256 of the finished ``.part``, hashed as its bytes were written (bytes already on
    #: disk from an earlier run are read once): the cache need not read GBs again.
    sha256: str = ""


class _Digest:
    """The running sha256 of a ``.part`` file and how many of its bytes it covers."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.covered = 0

    def start_at(self, part: Path, offset: int) -> None:
        """Cover exactly bytes [0, offset) of ``part`` (re-read from disk when needed)."""
        if offset == self.covered:
            return
        self.hash, self.covered = hashlib.sha256(), 0
        if offset:
            with open(part, "rb") as f:
                while self.covered < offset:
                    chunk = f.read(min(1 << 20, offset - self.covered))
                    if not chunk:
                        raise _Retryable("the partial download shrank on disk; restarting")
                    self.update(chunk)

    def update(self, chunk: bytes) -> None:
        self.hash.update(chunk)
        self.covered += len(chunk)


class _Hasher:
    """Feeds written chunks to a ``_Digest`` on a second thread, in order.

    The queue is bounded (``_QUEUED`` chunks), so a hash slower than the network holds the
    download back instead of holding the file in memory. Leaving the ``with`` block always
    drains the queue first: the digest then covers exactly the bytes written, whatever
    stopped the loop (a dropped connection, a full disk, Ctrl-C).
    """

    _QUEUED = 8

    def __init__(self, digest: _Digest) -> None:
        self.digest = digest
        self.queue: queue.Queue[bytes | None] = queue.Queue(self._QUEUED)
        self.thread = threading.Thread(target=self._run, name="fetch-sha256", daemon=True)

    def __enter__(self) -> _Hasher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.queue.put(None)
        self.thread.join()

    def put(self, chunk: bytes) -> None:
        self.queue.put(chunk)

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            self.digest.update(chunk)


def download(
    session: requests.Session,
    url: str,
    part: Path,
    *,
    expected_size: int | None = None,
    on_bytes: Callable[[int], None] = lambda n: None,
    on_total: Callable[[int], None] = lambda n: None,
    policy: Policy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    """Fetch ``url`` into ``part`` (resuming what is there); returns when it is complete."""
    part.parent.mkdir(parents=True, exist_ok=True)
    sidecar = part.with_name(part.name + ".json")
    failures = 0
    attempts = 0
    resumed = False
    digest = _Digest()
    while True:
        attempts += 1
        have = part.stat().st_size if part.exists() else 0
        before = have
        try:
            done, used_range = _attempt(session, url, part, sidecar, have, expected_size,
                                        on_bytes, on_total, policy, digest)
            resumed = resumed or used_range
            if done:
                size = part.stat().st_size
                digest.start_at(part, size)  # a no-op unless the file is not what was hashed
                return Result(size, resumed, attempts, digest.hash.hexdigest())
        except _Retryable as exc:
            moved = (part.stat().st_size if part.exists() else 0) != before
            failures = 0 if moved else failures + 1
            if failures > policy.retries or attempts >= policy.max_attempts:
                raise DownloadError(f"{exc} (gave up after {attempts} attempts)") from None
            delay = min(policy.backoff * (2 ** max(failures - 1, 0)), policy.max_backoff)
            sleep(delay)


def _attempt(
    session: requests.Session,
    url: str,
    part: Path,
    sidecar: Path,
    have: int,
    expected_size: int | None,
    on_bytes: Callable[[int], None],
    on_total: Callable[[int], None],
    policy: Policy,
    digest: _Digest,
) -> tuple[bool, bool]:
    """One request. Returns (complete, resumed-with-Range); raises _Retryable to go again."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    validator = _read_validator(sidecar) if have else None
    if have:
        headers["Range"] = f"bytes={have}-"
        if validator:
            headers["If-Range"] = validator
    try:
        response = session.get(url, headers=headers, stream=True, allow_redirects=True,
                               timeout=(policy.connect_timeout, policy.read_timeout))
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _Retryable(f"cannot connect: {_short(exc)}") from None
    except requests.RequestException as exc:
        raise DownloadError(f"{url}: {_short(exc)}") from None
    with response:
        status = response.status_code
        if status == 416 and have:
            match = _UNSATISFIABLE.match(response.headers.get("Content-Range", ""))
            if match and int(match.group(1)) == have:
                on_total(have)
                return True, True  # the .part already holds the whole file
            part.unlink(missing_ok=True)  # longer than the file: start again
            raise _Retryable("server refused the resume range; restarting")
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status} {response.reason}")
        if status == 206 and have:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != have:
                part.unlink(missing_ok=True)
                raise _Retryable("server answered a different range; restarting")
            total = int(match.group(3)) if match.group(3) != "*" else None
            mode, start = "ab", have
        elif status == 200:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            mode, start = "wb", 0
        else:
            raise DownloadError(f"HTTP {status} {response.reason} from {url}")
        if total is not None and expected_size is not None and total != expected_size:
            raise DownloadError(
                f"{url} is {total} bytes, the manifest says {expected_size}"
            )
        if status == 200:
            _write_validator(sidecar, response.headers)
        on_total(total if total is not None else -1)
        if start == 0 and have:
            on_bytes(-have)  # the old partial bytes no longer count
        digest.start_at(part, start)
        written = _receive(response.raw, part, mode, start, digest, on_bytes, policy.chunk)
        if total is not None and written < total:
            raise _Retryable(f"connection closed after {written} of {total} bytes")
        if total is not None and written > total:
            part.unlink(missing_ok=True)
            raise _Retryable(f"server sent {written} bytes for a {total}-byte file; restarting")
        return True, start > 0


def _receive(body: urllib3.BaseHTTPResponse, part: Path, mode: str, start: int,
             digest: _Digest, on_bytes: Callable[[int], None], chunk: int) -> int:
    """Append the response body to ``part`` (which holds ``start`` bytes); returns the size
    reached. A network failure is ``_Retryable``; a local one (disk full) is not."""
    written = start
    with open(part, mode, buffering=0) as out, _Hasher(digest) as hasher:
        while True:
            try:
                data = body.read1(chunk, decode_content=False)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise _Retryable(f"connection lost after {written} bytes: {_short(exc)}") \
                    from None
            if not data:
                return written
            view = memoryview(data)
            while view:
                view = view[out.write(view):]
            hasher.put(data)
            written += len(data)
            on_bytes(len(data))


def _read_validator(sidecar: Path) -> str | None:
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("validator") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def _write_validator(sidecar: Path, headers: requests.structures.CaseInsensitiveDict) -> None:
    """Remember a *strong* validator; a weak ETag must not be used with If-Range."""
    etag = headers.get("ETag", "")
    validator = etag if etag and not etag.startswith("W/") else headers.get("Last-Modified")
    if validator:
        sidecar.write_text(json.dumps({"validator": validator}), encoding="utf-8")
    else:
        sidecar.unlink(missing_ok=True)


def _short(exc: BaseException) -> str:
    """The useful last part of requests' nested exception text."""
    text = str(exc)
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker)[-1]
    return text.strip("()'\" ")[:200]

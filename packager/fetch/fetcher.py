"""Fetch every artifact of a release into the cache, several at a time, with progress.

Failures are collected per artifact rather than stopping the run: on a slow mirror the
user wants every file that *can* be fetched to be fetched, and one summary of what did not.
"""

from __future__ import annotations

import fcntl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Callable

import requests
from tqdm import tqdm

from packager.errors import UserError
from packager.fetch.cache import Cache, ChecksumMismatch
from packager.fetch.download import DEFAULT_POLICY, DownloadError, Policy, download
from packager.release import Artifact, Release


class _PartLock:
    """An flock next to the .part file, so two fetches into one cache never both append."""

    def __init__(self, part: Path) -> None:
        self.path = part.with_name(part.name + ".lock")
        self.fh: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a")  # noqa: SIM115 - held until release()
        fcntl.flock(self.fh, fcntl.LOCK_EX)

    def release(self) -> None:
        if self.fh is not None:
            self.fh.close()  # closing drops the lock; the file itself is harmless
            self.fh = None


class Cancelled(Exception):
    """Raised inside a worker when the user interrupted the run."""


@dataclass
class Outcome:
    """What happened to one artifact; the summary table and ``--json`` are made of these."""

    name: str
    status: str  # cached | downloaded | resumed | failed
    size: int | None
    sha256: str | None
    seconds: float
    url: str
    pinned: bool
    error: str | None = None
    path: str | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


class _Bars:
    """An overall bar plus one bar per worker slot (tqdm ``position``), thread-safe."""

    def __init__(self, total: int, jobs: int, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.lock = threading.Lock()
        self.free = list(range(1, jobs + 1))
        self.overall = tqdm(total=total or None, desc="total", unit="B", unit_scale=True,
                            unit_divisor=1024, position=0, file=sys.stderr,
                            disable=not self.enabled, leave=False)

    def slot(self, desc: str, total: int | None) -> tuple[int, tqdm]:
        with self.lock:
            position = self.free.pop(0)
        bar = tqdm(total=total, desc=desc[:40], unit="B", unit_scale=True, unit_divisor=1024,
                   position=position, file=sys.stderr, disable=not self.enabled, leave=False)
        return position, bar

    def release(self, position: int, bar: tqdm) -> None:
        bar.close()
        with self.lock:
            self.free.append(position)
            self.free.sort()

    def add_total(self, n: int) -> None:
        with self.lock:
            self.overall.total = (self.overall.total or 0) + n
            self.overall.refresh()

    def close(self) -> None:
        self.overall.close()


def fetch_release(
    release: Release,
    cache: Cache,
    *,
    mirror: str | None = None,
    jobs: int = 4,
    policy: Policy = DEFAULT_POLICY,
    progress: bool = True,
    session_factory: Callable[[], requests.Session] = requests.Session,
) -> list[Outcome]:
    """Make every artifact of ``release`` present and verified in ``cache``."""
    if jobs < 1:
        raise UserError(f"--jobs {jobs}: must be at least 1")
    outcomes: dict[str, Outcome] = {}
    todo: list[Artifact] = []
    for art in release.artifacts:
        start = time.monotonic()
        blob = cache.lookup(art)
        if blob is not None:
            outcomes[art.name] = Outcome(
                art.name, "cached", blob.stat().st_size, cache.recorded_sha256(art),
                time.monotonic() - start, art.url_for(mirror), art.pinned, path=str(blob))
        else:
            todo.append(art)
    bars = _Bars(sum(a.size or 0 for a in todo), jobs, progress)
    local = threading.local()
    stop = threading.Event()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = session_factory()
        return local.session

    def one(art: Artifact) -> Outcome:
        start = time.monotonic()
        url = art.url_for(mirror)
        part = cache.partial_path(art)
        position, bar = bars.slot(art.name, art.size)
        known = {"total": art.size}
        lock = _PartLock(part)
        try:
            # another fetch into the same cache may be on this file: wait, then look again
            lock.acquire()
            blob = cache.lookup(art)
            if blob is not None:
                return Outcome(art.name, "cached", blob.stat().st_size,
                               cache.recorded_sha256(art), time.monotonic() - start, url,
                               art.pinned, path=str(blob))
            already = part.stat().st_size if part.exists() else 0
            bar.update(already)
            bars.overall.update(already)

            def on_bytes(n: int) -> None:
                if stop.is_set():
                    raise Cancelled(art.name)
                bar.update(n)
                bars.overall.update(n)

            def on_total(n: int) -> None:
                if n >= 0:
                    bar.total = n
                    bar.refresh()
                    if known["total"] is None:
                        bars.add_total(n)
                        known["total"] = n

            result = download(session(), url, part, expected_size=art.size,
                              on_bytes=on_bytes, on_total=on_total, policy=policy)
            blob, sha, size = cache.commit(part, art, result.sha256)
            status = "resumed" if result.resumed else "downloaded"
            return Outcome(art.name, status, size, sha, time.monotonic() - start, url,
                           art.pinned, path=str(blob))
        except (DownloadError, ChecksumMismatch, UserError, OSError) as exc:
            message = str(exc)
            if message.startswith(art.name + ": "):
                message = message[len(art.name) + 2 :]  # the table/JSON already name it
            if isinstance(exc, ChecksumMismatch):
                message += "; the download was deleted, run fetch again to retry"
            return Outcome(art.name, "failed", art.size, art.sha256,
                           time.monotonic() - start, url, art.pinned, error=message)
        finally:
            lock.release()
            bars.release(position, bar)

    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo))),
                              thread_name_prefix="fetch")
    try:
        futures = [pool.submit(one, art) for art in todo]
        for future in futures:
            outcome = future.result()
            outcomes[outcome.name] = outcome
    except BaseException:
        # Ctrl-C: make the workers stop at their next chunk; their .part files stay for
        # the next run to resume.
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        bars.close()
    return [outcomes[a.name] for a in release.artifacts]

"""Turn verified artifacts into the directory trees package specs point at.

A source is a chain: an artifact of the release, then archives inside it, e.g.
``[FATE_install_1.4.5-release.tar.gz, FATE_install_1.4.5-release/eggroll.tar.gz]``, and a
path inside the last one. Each archive of a chain is extracted once (tar-slip safe, see
:mod:`packager.stage.extract`). ``@name`` sources are trees made by build steps (the
Python environment, the rendered units, the target tools), also made once.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from packager.errors import UserError
from packager.fetch.cache import Cache
from packager.release import Release
from packager.stage.extract import extract

if TYPE_CHECKING:
    from packager.assemble.steps import Step, StepContext


#: Directories of a build's work directory that hold staged trees (extracted archive chains,
#: build steps' trees); nothing else is kept there.
STAGED_DIRS = ("x", "steps")


class Stager:
    def __init__(self, cache: Cache, releases: list[Release], work: Path,
                 steps: dict[str, Step], contexts: dict[str, StepContext]) -> None:
        self.cache = cache
        self.releases = releases
        self.work = work
        self.steps = steps
        self.contexts = contexts
        # each chain extracted once, by whichever thread asks first; the others wait for it
        self._extracted: dict[tuple[str, ...], Future] = {}
        self._lock = threading.Lock()
        self._stepped: dict[str, Path] = {}
        self._stop = threading.Event()
        self._prefetcher: threading.Thread | None = None

    def prefetch(self, chains: Iterable[tuple[str, ...]]) -> None:
        """Extract ``chains`` in a thread of its own, in the given order, ahead of need.

        Staging is one thread that mostly waits while the python-env step runs the
        release's installer, the wheel installs and the compilers in child processes
        (scale 1: about a minute); the JDK, MySQL and FATE's archives are extracted in that
        time instead of after it. An extraction that fails keeps its error for the thread
        that asks for that chain (so errors are raised where and in the order they were
        before); :meth:`close` stops the prefetching between two archives."""
        todo = list(dict.fromkeys(chains))

        def run() -> None:
            for chain in todo:
                if self._stop.is_set():
                    return
                try:
                    self.tree(chain)
                except BaseException:  # noqa: BLE001 - raised again by tree() where needed
                    pass

        self._prefetcher = threading.Thread(target=run, daemon=True,
                                            name="fate-pkg-stage-prefetch")
        self._prefetcher.start()

    def close(self) -> None:
        """Stop prefetching (after the archive being extracted) and wait for it."""
        self._stop.set()
        if self._prefetcher is not None:
            self._prefetcher.join()

    def artifact(self, name: str) -> Path:
        for release in self.releases:
            for art in release.artifacts:
                if art.name == name:
                    path = self.cache.lookup(art)
                    if path is None:
                        raise UserError(f"artifact {name} is not in the cache (fate-pkg fetch)")
                    return path
        known = ", ".join(a.name for r in self.releases for a in r.artifacts)
        raise UserError(f"no artifact named {name!r} in the release (known: {known})")

    def tree(self, chain: tuple[str, ...]) -> Path:
        """The extracted contents of the last archive of ``chain`` (thread-safe)."""
        with self._lock:
            done = self._extracted.get(chain)
            if done is None:
                done = self._extracted[chain] = Future()
                mine = True
            else:
                mine = False
        if not mine:
            return done.result()
        try:
            dest = self._extract(chain)
        except BaseException as exc:
            done.set_exception(exc)
            raise
        done.set_result(dest)
        return dest

    def _extract(self, chain: tuple[str, ...]) -> Path:
        if len(chain) == 1:
            archive = self.artifact(chain[0])
        else:
            archive = self.tree(chain[:-1]) / chain[-1]
            if not archive.is_file():
                raise UserError(f"{chain[-2]} has no member {chain[-1]}")
        key = hashlib.sha256("\0".join(chain).encode()).hexdigest()[:16]
        dest = self.work / STAGED_DIRS[0] / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        extract(archive, dest)
        return dest

    def source(self, origin: str | list[str], path: str) -> Path:
        """The file or directory ``path`` inside a chain or a step's tree."""
        if isinstance(origin, str) and origin.startswith("@"):
            base = self.step(origin[1:])
        else:
            chain = (origin,) if isinstance(origin, str) else tuple(origin)
            base = self.tree(chain)
        target = (base / path).resolve()
        if not target.is_relative_to(base.resolve()) or not target.exists():
            where = origin if isinstance(origin, str) else " > ".join(origin)
            raise UserError(f"{where}: no {path!r} inside")
        return base / path

    def step(self, name: str) -> Path:
        if name not in self._stepped:
            if name not in self.steps:
                raise UserError(f"unknown build step @{name} (known: "
                                f"{', '.join('@' + s for s in sorted(self.steps))})")
            out = self.work / STAGED_DIRS[1] / name
            out.mkdir(parents=True)
            self.steps[name].make(self, self.contexts[name], out)
            self._stepped[name] = out
        return self._stepped[name]

"""Download a closure's RPMs into the verified, resumable artifact cache.

The packages become artifacts of a pseudo-release ``el7-os`` (``releases/el7-os/<file>``
in the cache), pinned to the sha256 and size from primary.xml, so they share everything
``fate-pkg fetch`` already does for FATE's own artifacts: parallel resumable downloads,
progress bars, and a blob that enters the cache only when its bytes match. A ``file://``
repository is copied in through ``Cache.add``, which checks the same pins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

import requests

from packager.errors import CheckFailed, UserError
from packager.fetch.cache import Cache
from packager.fetch.download import DEFAULT_POLICY, Policy
from packager.fetch.fetcher import Outcome, fetch_release
from packager.release import Artifact, Release
from packager.repo.closure import Closure

#: The cache's name index for OS packages: ``releases/el7-os/<file name>``.
OS_RELEASE = "el7-os"


def artifacts(closure: Closure) -> list[Artifact]:
    """The closure's packages as pinned cache artifacts (one per file name)."""
    out: dict[str, Artifact] = {}
    for pkg in closure.packages:
        art = Artifact(OS_RELEASE, pkg.filename, pkg.url, pkg.size, pkg.sha256, "os")
        if out.setdefault(pkg.filename, art) != art:
            raise UserError(f"{pkg.filename}: two different packages with one file name")
    return list(out.values())


def download_outcomes(
    closure: Closure,
    cache: Cache,
    *,
    jobs: int = 4,
    progress: bool = True,
    policy: Policy = DEFAULT_POLICY,
    session_factory: Callable[[], requests.Session] = requests.Session,
) -> list[Outcome]:
    """Fetch every package; one :class:`Outcome` per package, failures included."""
    arts = artifacts(closure)
    remote = [a for a in arts if not a.url.startswith("file://")]
    outcomes: dict[str, Outcome] = {}
    if remote:
        release = Release(OS_RELEASE, "", tuple(remote), Path("<os repositories>"))
        for outcome in fetch_release(release, cache, jobs=jobs, policy=policy,
                                     progress=progress, session_factory=session_factory):
            outcomes[outcome.name] = outcome
    for art in arts:
        if art.url.startswith("file://"):
            outcomes[art.name] = _copy_local(art, cache)
    return [outcomes[a.name] for a in arts]


def download(closure: Closure, cache: Cache, **options) -> list[Path]:
    """Every package of ``closure`` as a verified blob in ``cache``, in closure order.

    Raises ``CheckFailed`` naming each package that could not be fetched or verified.
    """
    outcomes = download_outcomes(closure, cache, **options)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise CheckFailed("; ".join(f"{o.name}: {o.error}" for o in failed))
    return [Path(o.path) for o in outcomes if o.path]


def _copy_local(art: Artifact, cache: Cache) -> Outcome:
    blob = cache.lookup(art)
    if blob is not None:
        return Outcome(art.name, "cached", art.size, art.sha256, 0.0, art.url, True,
                       path=str(blob))
    source = Path(unquote(urlsplit(art.url).path))
    try:
        blob = cache.add(source, art)
    except UserError as exc:
        return Outcome(art.name, "failed", art.size, art.sha256, 0.0, art.url, True,
                       error=str(exc))
    return Outcome(art.name, "copied", art.size, art.sha256, 0.0, art.url, True,
                   path=str(blob))

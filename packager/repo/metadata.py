"""Read a yum repository's metadata: ``repodata/repomd.xml`` and the primary package list.

Why only primary: it carries every package's name, EVR, arch, location, sha256, size,
Provides/Requires/Obsoletes and the "primary" file list (``/etc/*``, ``*bin/*``,
``/usr/lib/sendmail``) that yum 3.4.3 also resolves file requirements like ``/bin/sh``
against. filelists.xml (all files, ten times larger) is not needed for what we require.

The trust chain is the one yum uses: repomd.xml (fetched fresh every time) names the
primary file with its checksum; the primary file is downloaded into the verified cache
only if its bytes match; each package's sha256 in primary.xml then verifies the RPMs.
Over ``file://`` the same checksum is checked on the local file.

Parsing uses createrepo_c's streaming C parser (a project dependency): one package at a
time reaches a callback, which keeps only what the resolver needs as tuples of interned
strings, so a CentOS "os" + "updates" pair (~20k packages) stays well within memory.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urljoin, urlsplit

import createrepo_c as cr
import requests

from packager import ui
from packager.errors import UserError
from packager.fetch.cache import Cache, sha256_file
from packager.fetch.download import DownloadError, download
from packager.release import Artifact
from packager.repo.vercmp import EVR
from packager.repomd import Record, RepomdError, parse_repomd
from packager.rpm import tags as t

_FLAGS = {"LT": t.SENSE_LESS, "LE": t.SENSE_LESS | t.SENSE_EQUAL, "EQ": t.SENSE_EQUAL,
          "GE": t.SENSE_GREATER | t.SENSE_EQUAL, "GT": t.SENSE_GREATER}
#: The checksum types repomd.xml may use, as hashlib names ("sha" is yum's old name of sha1).
_HASHES = {"sha256": "sha256", "sha512": "sha512", "sha1": "sha1", "sha": "sha1",
           "sha384": "sha384", "sha224": "sha224", "md5": "md5"}

#: One Provides/Requires/Obsoletes entry: (name, rpmsense flags, EVR or None).
Dep = tuple[str, int, "EVR | None"]


class RepoError(UserError):
    """A repository cannot be read: unreachable, not a yum repo, or failing its checksums."""


class Located:
    """The names a package file goes by, for any record with name, evr, arch and url."""

    name: str
    evr: object
    arch: str
    url: str

    @property
    def nevra(self) -> str:
        return f"{self.name}-{self.evr}.{self.arch}"

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class RepoPackage(Located):
    """One package of a repository, reduced to what resolving and downloading need."""

    name: str
    evr: EVR
    arch: str
    url: str
    sha256: str
    size: int
    repo: str
    provides: tuple[Dep, ...] = field(repr=False, default=())
    requires: tuple[Dep, ...] = field(repr=False, default=())
    obsoletes: tuple[Dep, ...] = field(repr=False, default=())
    files: tuple[str, ...] = field(repr=False, default=())


@dataclass(frozen=True)
class Repo:
    """A loaded repository: where it is and its packages (every arch, as listed)."""

    url: str
    packages: tuple[RepoPackage, ...]
    revision: str = ""


def repo_id(url: str) -> str:
    """A short stable name for a repository URL (cache directory names, messages)."""
    return hashlib.sha256(normalize_url(url).encode()).hexdigest()[:12]


def normalize_url(url: str) -> str:
    """``URL`` with exactly one trailing slash, so ``urljoin`` keeps its last component."""
    return url.rstrip("/") + "/"


def load_repo(
    url: str,
    cache: Cache,
    *,
    session: requests.Session | None = None,
    offline: bool = False,
    progress: bool = False,
    log: Callable[[str], None] = lambda msg: None,
) -> Repo:
    """Read the repository at ``url`` (``http(s)://`` or ``file://``).

    Over HTTP, repomd.xml is fetched fresh and the primary file goes through the verified
    cache; with ``offline=True`` the repomd.xml cached by the last online run is used.
    """
    base = normalize_url(url)
    scheme = urlsplit(base).scheme
    if scheme == "file":
        root = Path(unquote(urlsplit(base).path))
        repomd = root / "repodata" / "repomd.xml"
        if not repomd.is_file():
            raise RepoError(f"{url}: no repodata/repomd.xml (not a yum repository?)")
        record, revision = _parse_repomd(repomd.read_bytes(), url)
        primary = root / record.href
        if not primary.is_file():
            raise RepoError(f"{url}: repomd.xml lists {record.href}, which is missing")
        _check_digest(primary, record, url)
    elif scheme in ("http", "https"):
        record, revision, primary = _fetch_metadata(base, cache, session, offline, progress,
                                                    log)
    else:
        raise RepoError(f"--os-repo {url!r}: must be an http://, https:// or file:// URL")
    packages = parse_primary(primary, base, base)
    log(f"{base}: {len(packages)} packages")
    return Repo(base, packages, revision)


def _fetch_metadata(base: str, cache: Cache, session: requests.Session | None, offline: bool,
                    progress: bool, log: Callable[[str], None]) -> tuple[Record, str, Path]:
    rid = repo_id(base)
    release = f"el7-repodata-{rid}"
    repomd_art = Artifact(release, "repomd.xml", urljoin(base, "repodata/repomd.xml"),
                          None, None, "os")
    if offline:
        cached = cache.lookup(repomd_art)
        if cached is None:
            raise RepoError(f"{base}: no cached repomd.xml; run `fate-pkg fetch` online first")
    else:
        part = cache.partial_path(repomd_art)
        part.unlink(missing_ok=True)  # always the mirror's current repomd.xml, never a resume
        own = session or requests.Session()
        try:
            download(own, repomd_art.url, part)
        except DownloadError as exc:
            part.unlink(missing_ok=True)
            raise RepoError(f"{base}: cannot read repodata/repomd.xml: {exc}") from None
        _parse_repomd(part.read_bytes(), base)  # refuse garbage before it enters the cache
        cached, _, _ = cache.commit(part, repomd_art)
    record, revision = _parse_repomd(cached.read_bytes(), base)
    name = record.href.rsplit("/", 1)[-1]
    pinned = record.checksum if record.checksum_type == "sha256" else None
    primary_art = Artifact(release, name, urljoin(base, record.href), record.size, pinned, "os")
    blob = cache.lookup(primary_art)
    if blob is None:
        if offline:
            raise RepoError(f"{base}: {name} is not in the cache; run `fate-pkg fetch` online")
        part = cache.partial_path(primary_art)
        own = session or requests.Session()
        # CentOS 7 "updates" primary is tens of MB: worth a bar on a slow mirror
        with ui.progress(record.size, name, enabled=progress) as bar:
            try:
                download(own, primary_art.url, part, expected_size=record.size,
                         on_bytes=bar.update)
                blob, _, _ = cache.commit(part, primary_art)
            except (DownloadError, UserError) as exc:
                part.unlink(missing_ok=True)
                raise RepoError(f"{base}: {record.href}: {exc}") from None
        log(f"{base}: fetched {record.href}")
    _check_digest(blob, record, base)  # sha1/sha512 repos: the cache could not pin them
    return record, revision, blob


def _parse_repomd(data: bytes, url: str) -> tuple[Record, str]:
    """The primary entry and the revision; refuses what yum would not trust."""
    try:
        records, revision = parse_repomd(data, f"{url}: repodata/repomd.xml")
    except RepomdError as exc:
        raise RepoError(str(exc)) from None
    for record in records:
        if record.type != "primary":
            continue
        if record.checksum_type not in _HASHES:
            raise RepoError(f"{url}: repomd.xml uses an unknown checksum type "
                            f"{record.checksum_type!r}")
        if record.leaves_repo:
            raise RepoError(f"{url}: repomd.xml's primary location {record.href!r} leaves "
                            "the repo")
        return record, revision
    raise RepoError(f"{url}: repomd.xml lists no primary metadata")


def _check_digest(path: Path, record: Record, url: str) -> None:
    if record.checksum_type == "sha256":
        actual, _ = sha256_file(path)
    else:
        digest = hashlib.new(_HASHES[record.checksum_type])
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        actual = digest.hexdigest()
    if actual != record.checksum:
        raise RepoError(f"{url}: {record.href} does not match the {record.checksum_type} "
                        f"in repomd.xml (metadata changed under us? run again)")


def parse_primary(path: Path, base: str, label: str) -> tuple[RepoPackage, ...]:
    """Stream ``primary.xml[.gz|.xz|.bz2]`` into :class:`RepoPackage` records."""
    out: list[RepoPackage] = []
    problems: list[str] = []
    intern = sys.intern

    def deps(items: list) -> tuple[Dep, ...]:
        result = []
        for name, flags, epoch, version, release, *_ in items:
            if name.startswith("rpmlib("):
                continue  # rpm itself provides these
            sense = _FLAGS.get(flags or "", 0)
            evr = None
            if sense and version:
                evr = EVR(int(epoch) if epoch and epoch.isdigit() else None,
                          intern(version), intern(release or ""))
            result.append((intern(name), sense, evr))
        return tuple(result)

    def on_package(pkg: cr.Package) -> None:
        try:
            if (pkg.checksum_type or "").lower() != "sha256" or not pkg.pkgId:
                problems.append(f"{pkg.name}: checksum type {pkg.checksum_type!r}, not sha256")
                return
            href = pkg.location_href or ""
            if not href or href.startswith("/") or ".." in href.split("/"):
                problems.append(f"{pkg.name}: bad location {href!r}")
                return
            where = normalize_url(pkg.location_base) if pkg.location_base else base
            out.append(RepoPackage(
                name=intern(pkg.name),
                evr=EVR(int(pkg.epoch) if pkg.epoch and pkg.epoch.isdigit() else None,
                        intern(pkg.version), intern(pkg.release)),
                arch=intern(pkg.arch), url=urljoin(where, href), sha256=pkg.pkgId.lower(),
                size=int(pkg.size_package or 0), repo=label,
                provides=deps(pkg.provides), requires=deps(pkg.requires),
                obsoletes=deps(pkg.obsoletes),
                files=tuple(intern(d + b) for _, d, b, *_ in pkg.files),
            ))
        except Exception as exc:  # noqa: BLE001 - never let the C parser swallow a bug
            problems.append(f"{getattr(pkg, 'name', '?')}: {exc}")

    try:
        cr.xml_parse_primary(str(path), pkgcb=on_package, do_files=1)
    except (cr.CreaterepoCError, OSError) as exc:
        raise RepoError(f"{label}: cannot parse {path.name}: {exc}") from None
    if problems:
        raise RepoError(f"{label}: primary metadata has unusable entries: "
                        + "; ".join(problems[:5]))
    return tuple(out)

"""Assemble ``dist/fate-bundle-<ver>[-<profile>]-el7.x86_64.tar`` after the RPM build.

Layout under one top directory of the same name: ``rpms/`` (ours + the OS closure),
``repodata/``, ``RPM-GPG-KEY-fate`` (signed builds), ``fate-local.repo``, ``install.sh``,
``packages.txt``, ``party.yaml.example``, ``party.schema.json``, ``README``,
``SHA256SUMS`` (+ ``SHA256SUMS.asc``).

Written at about the cost of copying its RPMs (README, Performance): the RPMs go into the
tar straight from dist/ and the cache (no links: a link would change a cache blob's ctime
and void its verified stamp), by ``copy_file_range``; their sha256 (repodata, SHA256SUMS) is
the one the build recorded for the very same file (``BundleInput.sha256``), or the cache's
verified blob name; only an RPM with neither is read to be hashed.

Incremental like the RPMs: the bundle's fingerprint (its RPMs' build fingerprints, the OS
closure's sha256s, the shipped files, this code, SDE, key) is kept in
``dist/.fate-pkg-bundle.json``; an unchanged bundle is not rewritten. It is assembled in a
work directory inside dist/ and renamed into place, so a failure leaves dist/ as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from packager import resources
from packager.bundle.archive import write_tar
from packager.bundle.checksums import sign_sums, write_sums
from packager.bundle.profile import Profile
from packager.bundle.repodata import write_repodata
from packager.errors import UserError
from packager.fetch.cache import Cache
from packager.filestate import load_state, save_state, sha256_file

# Imported at module level on purpose: packager.repo pulls in urllib3, which probes for
# IPv6 by binding a socket on import; under `fate-pkg build --offline` that would count
# as a network attempt.
from packager.repo.closure import Closure
from packager.repo.download import artifacts
from packager.repo.pipeline import closure_path
from packager.rpm import Signer
from packager.rpm.sign import SigningError

STATE_FILE = ".fate-pkg-bundle.json"
#: An uncompressed tar: its RPMs are compressed already (packager/bundle/archive.py).
SUFFIX = "tar"
FILES = resources.bundles() / "files"
KEY_FILE = "RPM-GPG-KEY-fate"
CENTOS_KEY = "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7"
#: Shipped as they are, from bundles/ (generated there by fate-configure's schema).
_SHIPPED = ("party.yaml.example", "party.schema.json")


@dataclass(frozen=True)
class BundleInput:
    """One of the bundle's RPMs and what identifies its content without hashing it."""

    path: Path  # in dist/, or the cache's blob (named by its sha256)
    identity: str  # the RPM build fingerprint, or the closure's pinned sha256
    name: str = ""  # file name in the bundle (default: the path's)
    #: its sha256 when known without reading it (the build state's record for this very
    #: file, see filestate.recorded_digest; a verified cache blob's name); "" = hash it
    sha256: str = ""

    @property
    def filename(self) -> str:
        return self.name or self.path.name


@dataclass
class BundleResult:
    path: Path
    status: str  # "built" | "up to date"
    profile: Profile
    rpms: int
    os_rpms: int
    seconds: float


def bundle_name(version: str, profile: Profile) -> str:
    middle = "" if profile.default else f"-{profile.name}"
    return f"fate-bundle-{version}{middle}-el7.x86_64"


def os_closure_rpms(cache: Cache) -> list[BundleInput]:
    """The OS closure RPMs ``fate-pkg fetch --os`` left in the cache (none if never run)."""
    path = closure_path(cache)
    if not path.exists():
        return []
    out, missing = [], []
    for art in artifacts(Closure.load(path)):
        blob = cache.lookup(art)
        if blob is None:
            missing.append(art.name)
        else:
            out.append(BundleInput(blob, art.sha256 or "", art.name, blob.name))
    if missing:
        raise UserError(f"{path} lists {len(missing)} OS package(s) the cache lacks: "
                        f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; "
                        "run `fate-pkg fetch --os` on a connected host")
    return out


def write_bundle(out_dir: Path, version: str, profile: Profile, ours: dict[str, BundleInput],
                 os_rpms: list[BundleInput], sde: int, signer: Signer | None = None,
                 note: Callable[[str, str], None] | None = None) -> BundleResult:
    """Write (or keep) the profile's bundle in ``out_dir``; ``ours`` maps name -> RPM."""
    started = time.monotonic()
    note = note or (lambda kind, what: None)
    missing = [n for n in profile.packages + profile.extras if n not in ours]
    if missing:
        raise UserError(f"bundle profile {profile.name}: no RPM for {', '.join(missing)} "
                        "in the build (build them, or pass --no-bundle)")
    chosen = [ours[n] for n in profile.packages + profile.extras]
    name = bundle_name(version, profile)
    final = out_dir / f"{name}.{SUFFIX}"
    public_key = signer.export_public_key() if signer else None
    fingerprint = _fingerprint(name, profile, chosen, os_rpms, sde, public_key)
    state = load_state(out_dir / STATE_FILE)
    entry = state.get(profile.name, {})
    result = BundleResult(final, "up to date", profile, len(chosen), len(os_rpms), 0.0)
    if entry.get("fingerprint") == fingerprint and final.is_file():
        result.seconds = time.monotonic() - started
        return result
    note("bundle", final.name)
    for stale in out_dir.glob(".fate-pkg-bundle-*"):  # left by a killed build
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".fate-pkg-bundle-", dir=out_dir))
    try:
        top = work / name
        members = _rpm_members(chosen + os_rpms)
        _assemble(top, version, profile, members, sde, signer, public_key, bool(os_rpms))
        tmp = work / final.name
        write_tar(top, tmp, sde, {rel: item.path for rel, item in members.items()})
        os.replace(tmp, final)
        old = entry.get("file")
        if old and old != final.name:
            (out_dir / old).unlink(missing_ok=True)
        state[profile.name] = {"file": final.name, "fingerprint": fingerprint}
        save_state(out_dir / STATE_FILE, state)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.status = "built"
    result.seconds = time.monotonic() - started
    return result


def _gpgkey_line(signed: bool, has_os_rpms: bool) -> str:
    """Our key; plus CentOS's (on every CentOS 7 host) for the OS packages in the bundle,
    which keep their vendor's signature."""
    if not signed:
        return "# unsigned build: no gpgkey"
    keys = [f"file://@BUNDLE_DIR@/{KEY_FILE}"]
    if has_os_rpms:
        keys.append(CENTOS_KEY)
    return "gpgkey=" + " ".join(keys)


def _assemble(top: Path, version: str, profile: Profile, members: dict[str, BundleInput],
              sde: int, signer: Signer | None, public_key: bytes | None,
              has_os_rpms: bool) -> None:
    """Everything but the RPMs under ``top``; ``members`` (``rpms/<name>`` -> RPM) join
    them in the tar, SHA256SUMS and the repodata from where they are."""
    (top / "rpms").mkdir(parents=True)
    digests = {rel: item.sha256 or sha256_file(item.path) for rel, item in members.items()}
    write_repodata(top, {rel: (item.path, digests[rel]) for rel, item in members.items()},
                   sde)
    values = {
        "@VERSION@": version,
        "@PROFILE@": profile.name,
        "@DESCRIPTION@": profile.description,
        "@PACKAGES@": " ".join(profile.packages),
        "@GPGCHECK@": "1" if signer else "0",
        "@GPGKEY@": _gpgkey_line(signer is not None, has_os_rpms),
        "@KEY_FINGERPRINT@": _key_fingerprint(signer) if signer else "(unsigned build)",
        "@BUNDLE@": top.name,
    }
    (top / "fate-local.repo").write_text(_render(FILES / "fate-local.repo.in", values))
    (top / "README").write_text(_render(FILES / "README.in", values))
    (top / "packages.txt").write_text(
        f"# fate-pkg bundle profile {profile.name}: {profile.description}\n"
        + "".join(f"{n}\n" for n in profile.packages))
    shutil.copyfile(FILES / "install.sh", top / "install.sh")
    (top / "install.sh").chmod(0o755)
    for shipped in _SHIPPED:
        shutil.copyfile(resources.bundles() / shipped, top / shipped)
    if public_key is not None:
        (top / KEY_FILE).write_bytes(public_key)
    sums = write_sums(top, digests)
    if signer is not None:
        sign_sums(sums, signer)


def _render(template: Path, values: dict[str, str]) -> str:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _key_fingerprint(signer: Signer) -> str:
    try:
        return signer.fingerprint()
    except SigningError as exc:
        raise UserError(str(exc)) from None


def _rpm_members(rpms: list[BundleInput]) -> dict[str, BundleInput]:
    """``rpms/<file name>`` -> the RPM (a later one of the same name wins)."""
    return {f"rpms/{item.filename}": item for item in rpms}


def _fingerprint(name: str, profile: Profile, ours: list[BundleInput],
                 os_rpms: list[BundleInput], sde: int, public_key: bytes | None) -> str:
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        for p in parts:
            h.update(str(p).encode() + b"\0")

    add(name, profile, sde, public_key)
    for item in [*ours, *os_rpms]:
        add(item.filename, item.identity, item.path.stat().st_size)
    for d in (Path(__file__).resolve().parent, FILES):
        for p in sorted(d.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                add(p.relative_to(d), sha256_file(p))
    for shipped in _SHIPPED:
        add(shipped, sha256_file(resources.bundles() / shipped))
    return h.hexdigest()



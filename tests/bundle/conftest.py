"""The sample release built once per session, signed with a throw-away RSA key, and bundled.

Everything in this directory reads these fixtures; tests that change a bundle work on a
copy. The gpg home (and the agent gpg starts for it) is removed at the end of the session.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from packager.assemble.pipeline import BuildOptions, BuildReport, run_build
from packager.bundle.from_build import bundle_after_build
from packager.bundle.writer import BundleResult
from packager.fetch.cache import Cache
from packager.netguard import offline
from packager.release import releases_for
from packager.rpm import Compression, Signer

from .standin import build_standin_repo

SDE = 1601164800
ALL = ("fate-common", "fate-jdk", "fate-python", "fate-mysql", "fate-eggroll", "fate-flow",
       "fate-board", "fate-tools")
EXCHANGE = ("fate-common", "fate-jdk", "fate-eggroll", "fate-tools")


def seeded_cache(root: Path) -> Cache:
    """A fresh cache with the vendored wheels from the user cache (scripts/setup.sh)."""
    user, cache = Cache(), Cache(root)
    for rel in releases_for("sample-1.4.5")[1:]:
        for art in rel.artifacts:
            blob = user.lookup(art)
            if blob is None:
                pytest.fail(f"{art.name} is not in {user.root}: run scripts/setup.sh")
            cache.add(blob, art)
    return cache


def gen_key(home: Path) -> str:
    home.mkdir(mode=0o700)
    params = ["%no-protection", "Key-Type: RSA", "Key-Length: 2048",
              "Name-Real: fate-pkg bundle test", "Name-Email: bundle@fate-pkg.invalid",
              "Expire-Date: 0", "%commit", ""]
    subprocess.run(["gpg", "--homedir", str(home), "--batch", "--gen-key"],
                   input="\n".join(params), text=True, check=True, capture_output=True)
    out = subprocess.run(["gpg", "--homedir", str(home), "--with-colons", "--list-keys"],
                         capture_output=True, text=True, check=True).stdout
    return next(line.split(":")[4] for line in out.splitlines() if line.startswith("pub"))


@dataclass
class Built:
    cache: Cache
    dist: Path
    opts: BuildOptions
    report: BuildReport
    signer: Signer
    bundle: BundleResult  # all-in-one
    exchange: BundleResult


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    base = tmp_path_factory.mktemp("bundle-build")
    home = base / "gnupg"
    signer = Signer(gen_key(home), str(home), SDE)
    try:
        cache = seeded_cache(base / "cache")
        opts = BuildOptions(release="sample-1.4.5", cache=cache, out_dir=base / "dist",
                            sample=True, compression=Compression("gzip", 6), sde=SDE,
                            signer=signer)
        with offline() as guard:
            report = run_build(opts)
            bundle = bundle_after_build(report, opts, None)
            exchange = bundle_after_build(report, opts, "exchange")
        assert not guard.attempts
        yield Built(cache, base / "dist", opts, report, signer, bundle, exchange)
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"],
                       capture_output=True)


def unpack(tarball: Path, dest: Path) -> Path:
    """Unpack with the tar CLI (not our code) and return the bundle's top directory."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-xf", str(tarball), "-C", str(dest)], check=True)
    with tarfile.open(tarball) as tar:
        top = tar.getnames()[0]
    return dest / top


@pytest.fixture
def bundle_dir(built, tmp_path) -> Path:
    """A fresh unpacked copy of the signed all-in-one bundle."""
    return unpack(built.bundle.path, tmp_path / "unpacked")


@pytest.fixture(scope="session")
def standin_repo(tmp_path_factory) -> Path:
    return build_standin_repo(tmp_path_factory.mktemp("standin"))


@pytest.fixture
def core_root(standin_repo, tmp_path) -> Path:
    """An install root holding only the @core stand-in, as a fresh CentOS 7 host would."""
    root = tmp_path / "root"
    root.mkdir()
    rpm = next(standin_repo.glob("*.rpm"))
    done = subprocess.run(["rpm", "--root", str(root), "-i", str(rpm)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return root


def tree_state(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` with type, size, mode and mtime: 'nothing changed' is equality.

    Except the times of sqlite's shared-memory index of the rpm database, which every
    reader (``rpm -q``) touches; the database file itself is compared like any file.
    """
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        if p.name.endswith((".sqlite-shm", ".sqlite-wal")):
            out[str(p.relative_to(root))] = (st.st_mode,)
            continue
        out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst

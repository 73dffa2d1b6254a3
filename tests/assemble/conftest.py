from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from packager.assemble.pipeline import BuildOptions, run_build
from packager.fetch.cache import Cache
from packager.netguard import offline
from packager.release import releases_for
from packager.rpm import Compression

SDE = 1601164800


def seeded_cache(root: Path) -> Cache:
    """A fresh cache holding the vendored wheels (fetched once by scripts/setup.sh)."""
    user = Cache()
    cache = Cache(root)
    for rel in releases_for("sample-1.4.5")[1:]:
        for art in rel.artifacts:
            blob = user.lookup(art)
            if blob is None:
                pytest.fail(f"{art.name} is not in {user.root}: run scripts/setup.sh "
                            "(fate-pkg fetch --release vendor-py36)")
            cache.add(blob, art)
    return cache


def sample_options(cache: Cache, out: Path, **kw) -> BuildOptions:
    return BuildOptions(release="sample-1.4.5", cache=cache, out_dir=out, sample=True,
                        compression=Compression("gzip", 6), **kw)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """The sample release built once (offline), shared read-only by the tests."""
    base = tmp_path_factory.mktemp("sample-build")
    cache = seeded_cache(base / "cache")
    with offline() as guard:
        report = run_build(sample_options(cache, base / "dist"))
    assert not guard.attempts
    return cache, base / "dist", report


@pytest.fixture
def dist_copy(sample_build, tmp_path):
    cache, dist, _ = sample_build
    copy = tmp_path / "dist"
    shutil.copytree(dist, copy)
    return cache, copy

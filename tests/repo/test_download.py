"""The closure's RPMs into the verified cache, over loopback HTTP; a corrupted RPM is refused."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from packager.errors import CheckFailed
from packager.fetch.cache import Cache
from packager.fetch.download import Policy
from packager.repo import OS_RELEASE, download, download_outcomes, load_repo, resolve
from packager.rpm import read_rpm
from tests.fetch.mirror import Mirror
from tests.repo.test_closure import BASE, FATE

FAST = Policy(retries=1, backoff=0.01, max_backoff=0.01)


def _closure(mirror: Mirror, cache: Cache):
    repos = [load_repo(f"{mirror.url}/os", cache), load_repo(f"{mirror.url}/updates", cache)]
    return resolve(FATE, repos, BASE)


def test_download_into_the_cache(mirror: Mirror, repo_tree: Path, cache: Cache) -> None:
    closure = _closure(mirror, cache)
    paths = download(closure, cache, progress=False, policy=FAST)
    assert len(paths) == len(closure.packages) == 11
    for pkg, blob in zip(closure.packages, paths):
        repo = "updates" if "/updates/" in pkg.url else "os"
        original = (repo_tree / repo / "Packages" / pkg.filename).read_bytes()
        assert blob.read_bytes() == original
        assert blob.name == hashlib.sha256(original).hexdigest()
        index = cache.root / "releases" / OS_RELEASE / pkg.filename
        assert index.resolve() == blob.resolve()
        assert read_rpm(blob).nevra.replace("-0:", "-") == pkg.nevra
        assert not os.access(blob, os.W_OK) or os.getuid() == 0
    # a second run downloads nothing
    before = len(mirror.log)
    outcomes = download_outcomes(closure, cache, progress=False, policy=FAST)
    assert {o.status for o in outcomes} == {"cached"}
    assert len(mirror.log) == before


def test_corrupted_rpm_is_refused(mirror: Mirror, cache: Cache) -> None:
    closure = _closure(mirror, cache)
    mirror.files["os/Packages/libaio-0.3.109-13.el7.x86_64.rpm"].corrupt = True
    with pytest.raises(CheckFailed) as err:
        download(closure, cache, progress=False, policy=FAST)
    assert "libaio-0.3.109-13.el7.x86_64.rpm: sha256 mismatch" in str(err.value)
    outcomes = {o.name: o for o in download_outcomes(closure, cache, progress=False,
                                                      policy=FAST)}
    assert outcomes["libaio-0.3.109-13.el7.x86_64.rpm"].status == "failed"
    assert sum(o.status == "cached" for o in outcomes.values()) == 10  # the rest went in
    assert not (cache.root / "releases" / OS_RELEASE / "libaio-0.3.109-13.el7.x86_64.rpm"
                ).exists()
    libaio = next(p for p in closure.packages if p.name == "libaio")
    assert not cache.blob_path(libaio.sha256).exists()


def test_file_repo_copies_and_checks(repo_tree: Path, cache: Cache, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "os"
    shutil.copytree(repo_tree / "os", copy)
    repos = [load_repo(f"file://{copy}", cache)]
    closure = resolve([FATE[0]], repos, BASE)
    assert [p.nevra for p in closure.packages] == ["libaio-0.3.109-13.el7.x86_64"]
    rpm = copy / "Packages" / "libaio-0.3.109-13.el7.x86_64.rpm"
    data = bytearray(rpm.read_bytes())
    data[-1] ^= 0xFF  # same size, different bytes
    rpm.write_bytes(bytes(data))
    with pytest.raises(CheckFailed, match="sha256 mismatch"):
        download(closure, cache, progress=False)
    shutil.copy(repo_tree / "os" / "Packages" / rpm.name, rpm)
    (blob,) = download(closure, cache, progress=False)
    assert blob.read_bytes() == rpm.read_bytes()

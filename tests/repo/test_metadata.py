"""Reading repomd.xml + primary.xml.gz over real HTTP (loopback) and file://."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from packager.fetch.cache import Cache
from packager.netguard import offline
from packager.repo import RepoError, load_repo
from packager.repo.metadata import repo_id
from tests.fetch.mirror import Mirror


def _primary_name(repo_tree: Path, repo: str) -> str:
    (primary,) = (repo_tree / repo / "repodata").glob("*-primary.xml.gz")
    return f"{repo}/repodata/{primary.name}"


def test_http_repo_is_read_and_cached(mirror: Mirror, repo_tree: Path, cache: Cache) -> None:
    repo = load_repo(f"{mirror.url}/os", cache)
    by_nevra = {p.nevra: p for p in repo.packages}
    assert len(by_nevra) == 17
    bash = by_nevra["bash-4.2.46-34.el7.x86_64"]
    rpm_bytes = (repo_tree / "os" / "Packages" / "bash-4.2.46-34.el7.x86_64.rpm").read_bytes()
    assert bash.sha256 == hashlib.sha256(rpm_bytes).hexdigest()
    assert bash.size == len(rpm_bytes)
    assert bash.url == f"{mirror.url}/os/Packages/bash-4.2.46-34.el7.x86_64.rpm"
    # primary.xml's file list holds */bin/* but not /usr/share/doc
    assert "/bin/sh" in bash.files and not any("/doc/" in f for f in bash.files)
    assert ("libc.so.6()(64bit)", 0, None) in bash.requires
    assert "gmp-1:6.0.0-15.el7.i686" in by_nevra
    assert repo.revision == "1600000000"

    primary = _primary_name(repo_tree, "os")
    assert len(mirror.requests_for(primary)) == 1
    again = load_repo(f"{mirror.url}/os/", cache)  # trailing slash: same repository
    assert again.packages == repo.packages
    assert len(mirror.requests_for(primary)) == 1  # verified cache, not fetched twice
    assert len(mirror.requests_for("os/repodata/repomd.xml")) == 2  # always fresh


def test_offline_reads_the_cached_metadata(mirror: Mirror, cache: Cache) -> None:
    online = load_repo(f"{mirror.url}/updates", cache)
    with offline() as guard:
        again = load_repo(f"{mirror.url}/updates", cache, offline=True)
    assert again.packages == online.packages
    assert guard.attempts == []


def test_offline_without_cache_says_so(cache: Cache) -> None:
    with pytest.raises(RepoError, match="no cached repomd.xml"):
        load_repo("http://127.0.0.1:9/os", cache, offline=True)


def test_corrupted_primary_is_refused(mirror: Mirror, repo_tree: Path, cache: Cache) -> None:
    mirror.files[_primary_name(repo_tree, "os")].corrupt = True
    with pytest.raises(RepoError, match="sha256 mismatch"):
        load_repo(f"{mirror.url}/os", cache)
    repomd = (repo_tree / "os" / "repodata" / "repomd.xml").read_bytes()
    blobs = {p.name for p in (cache.root / "sha256").iterdir()}
    assert blobs == {hashlib.sha256(repomd).hexdigest()}  # the bad primary never entered
    assert not list((cache.root / "partial").rglob("*.part"))
    mirror.files[_primary_name(repo_tree, "os")].corrupt = False
    assert len(load_repo(f"{mirror.url}/os", cache).packages) == 17  # a re-run recovers


def test_not_a_repository(mirror: Mirror, cache: Cache) -> None:
    with pytest.raises(RepoError, match=r"cannot read repodata/repomd.xml: HTTP 404"):
        load_repo(f"{mirror.url}/nothing-here", cache)
    assert not (cache.root / "releases" / f"el7-repodata-{repo_id(mirror.url + '/x')}").exists()


def test_garbage_repomd(mirror: Mirror, cache: Cache) -> None:
    from tests.fetch.mirror import Served

    mirror.files["junk/repodata/repomd.xml"] = Served(b"<html>mirror maintenance</html>")
    with pytest.raises(RepoError, match="not a yum repomd document"):
        load_repo(f"{mirror.url}/junk", cache)


def test_file_repo_checks_the_primary_checksum(repo_tree: Path, tmp_path: Path,
                                               cache: Cache) -> None:
    import shutil

    copy = tmp_path / "os"
    shutil.copytree(repo_tree / "os", copy)
    assert len(load_repo(f"file://{copy}", cache).packages) == 17
    (primary,) = (copy / "repodata").glob("*-primary.xml.gz")
    data = bytearray(primary.read_bytes())
    data[len(data) // 2] ^= 0xFF
    primary.write_bytes(bytes(data))
    with pytest.raises(RepoError, match="does not match the sha256 in repomd.xml"):
        load_repo(f"file://{copy}", cache)


def test_bad_scheme(cache: Cache) -> None:
    with pytest.raises(RepoError, match="must be an http://, https:// or file:// URL"):
        load_repo("ftp://mirror/centos/7/os", cache)

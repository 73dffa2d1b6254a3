"""The content-addressed cache: add, lookup, damage detection, missing()."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from packager.errors import UserError
from packager.fetch.cache import Cache
from packager.release import Artifact, Release

DATA = b"FATE sample artifact\n" * 1000
SHA = hashlib.sha256(DATA).hexdigest()


def _art(name: str = "fate-1.4.5.tar.gz", sha: str | None = SHA,
         size: int | None = len(DATA)) -> Artifact:
    return Artifact("sample-1.4.5", name, f"https://example.invalid/{name}", size, sha, "fate")


def test_add_then_lookup(tmp_path: Path) -> None:
    src = tmp_path / "src.tar.gz"
    src.write_bytes(DATA)
    cache = Cache(tmp_path / "cache")
    art = _art()
    assert cache.lookup(art) is None
    blob = cache.add(src, art)
    assert blob == tmp_path / "cache" / "sha256" / SHA
    assert blob.read_bytes() == DATA and src.exists()
    assert cache.lookup(art) == blob
    assert not list((tmp_path / "cache" / "tmp").iterdir())
    # a second release with the same bytes shares the blob
    other = Artifact("other-1", "renamed.tar.gz", "https://x.invalid/r", None, None, "fate")
    assert cache.add(src, other) == blob
    assert cache.lookup(other) == blob
    assert len(list((tmp_path / "cache" / "sha256").iterdir())) == 1


def test_add_refuses_bytes_that_do_not_match_the_pin(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(DATA + b"x")
    cache = Cache(tmp_path / "cache")
    with pytest.raises(UserError, match=r"fate-1.4.5.tar.gz: .*src has 21001 bytes, the "
                       r"manifest pins 21000"):
        cache.add(src, _art())
    with pytest.raises(UserError, match=r"sha256 mismatch: .*src has [0-9a-f]{64}, the manifest"):
        cache.add(src, _art(size=None))
    assert not (tmp_path / "cache" / "sha256").exists()
    with pytest.raises(UserError, match="not a regular file"):
        cache.add(tmp_path, _art())


def test_damaged_blob_is_not_returned(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(DATA)
    cache = Cache(tmp_path / "cache")
    blob = cache.add(src, _art())
    stat = blob.stat()
    os.chmod(blob, 0o644)
    with open(blob, "r+b") as fh:  # same size, one byte different, mtime put back
        fh.seek(100)
        fh.write(b"X")
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cache.lookup(_art()) is None
    assert cache.lookup(_art(name="other", sha=None, size=None)) is None


def test_unpinned_artifact_is_found_through_the_name_index(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(DATA)
    cache = Cache(tmp_path / "cache")
    unpinned = _art(sha=None, size=None)
    cache.add(src, unpinned)
    assert cache.lookup(unpinned) == cache.blob_path(SHA)
    assert cache.recorded_sha256(unpinned) == SHA
    assert cache.lookup(_art(sha=None, size=len(DATA) + 1)) is None


def test_missing_lists_what_the_build_still_needs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(DATA)
    cache = Cache(tmp_path / "cache")
    have, need = _art("have.tar.gz"), _art("need.tar.gz", sha="1" * 64)
    release = Release("sample-1.4.5", "1.4.5", (have, need), tmp_path / "x.yaml")
    assert cache.missing(release) == [have, need]
    cache.add(src, have)
    assert cache.missing(release) == [need]


def test_cache_root_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="exists and is not a directory"):
        Cache(tmp_path / "file")

"""The bundle's tar writer: what Python's tarfile writes for the same tree, byte for byte.

The writer builds headers with tarfile but copies file data with copy_file_range and pads
by hand; an off-by-one in padding or the end record would make a tar that GNU tar warns
about or that differs between builds.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile

import pytest

from packager.bundle import archive

SDE = 1601164800


def _tree(tmp_path):
    top = tmp_path / "fate-bundle-x"
    (top / "rpms").mkdir(parents=True)
    # sizes at and around block and record edges, and a large one (several copy calls)
    for size in (0, 1, 511, 512, 513, 10240, 10241, 3 << 20):
        (top / "rpms" / f"f{size}.rpm").write_bytes(os.urandom(size))
    (top / "install.sh").write_text("#!/bin/bash\n")
    (top / "install.sh").chmod(0o700)
    return top


def _reference(top):
    """The same archive written by tarfile itself (data copied in user space)."""
    out = io.BytesIO()
    paths = [top, *top.rglob("*")]
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(paths, key=lambda p: p.relative_to(top.parent).as_posix()):
            info = tar.gettarinfo(str(path), path.relative_to(top.parent).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = SDE, 0, 0, "", ""
            info.mode = 0o755 if info.isdir() or path.stat().st_mode & 0o111 else 0o644
            if info.isfile():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    return out.getvalue()


def test_same_bytes_as_tarfile_and_gnu_tar_reads_it(tmp_path):
    top = _tree(tmp_path)
    dest = tmp_path / "b.tar"
    archive.write_tar(top, dest, SDE)
    assert dest.read_bytes() == _reference(top)
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run(["tar", "-xf", str(dest), "-C", str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == ""
    for p in (top / "rpms").iterdir():
        assert (out / top.name / "rpms" / p.name).read_bytes() == p.read_bytes()


def test_files_added_from_elsewhere_are_members_in_their_place(tmp_path):
    """The bundle's RPMs are read where they are (dist/, the cache): the tar is the same as
    if they had been copied into the tree first."""
    top = _tree(tmp_path)
    expected = _reference(top)
    elsewhere = tmp_path / "dist"
    elsewhere.mkdir()
    extra = {}
    for p in sorted((top / "rpms").iterdir()):
        moved = elsewhere / f"blob-{p.name}"  # named otherwise, like a cache blob
        p.rename(moved)
        extra[f"rpms/{p.name}"] = moved
    dest = tmp_path / "b.tar"
    archive.write_tar(top, dest, SDE, extra)
    assert dest.read_bytes() == expected


def test_user_space_copy_when_the_kernel_cannot(tmp_path, monkeypatch):
    """A file system without copy_file_range (EXDEV/EOPNOTSUPP...) gets the same bytes."""
    top = _tree(tmp_path)

    def refuse(*args):
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    dest = tmp_path / "b.tar"
    archive.write_tar(top, dest, SDE)
    assert dest.read_bytes() == _reference(top)


def test_a_file_that_shrinks_while_archived_is_an_error(tmp_path, monkeypatch):
    top = _tree(tmp_path)
    monkeypatch.setattr(os, "copy_file_range", lambda *a: 0)
    with pytest.raises(OSError, match="shrank"):
        archive.write_tar(top, tmp_path / "b.tar", SDE)

"""The bundle takes each RPM's sha256 from the build instead of reading gigabytes again:
only while the file is the one the build hashed, and with the same metadata as hashing it."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import createrepo_c as cr

from packager.bundle import writer
from packager.bundle.from_build import bundle_after_build
from packager.bundle.repodata import write_repodata
from packager.lint import verify_bundle

from .conftest import SDE, unpack


def _linked_dist(built, tmp_path: Path) -> Path:
    """dist/ again, its RPMs hard links (the same files: what the build hashed), without
    the bundles, so that they are written anew."""
    dist = tmp_path / "dist"
    dist.mkdir()
    for p in built.dist.iterdir():
        if p.suffix == ".rpm":
            os.link(p, dist / p.name)
        elif p.name == ".fate-pkg-build.json":
            shutil.copy2(p, dist / p.name)
    return dist


def _opts(built, dist):
    return type(built.opts)(**{**built.opts.__dict__, "out_dir": dist})


def test_the_builds_digests_are_used_and_give_the_same_bundle(built, tmp_path, monkeypatch):
    state = json.loads((built.dist / ".fate-pkg-build.json").read_text())
    assert all(len(e.get("sha256", "")) == 64 for e in state.values()), \
        "the build records every RPM's sha256"
    dist = _linked_dist(built, tmp_path)
    hashed: list[str] = []
    real = writer.sha256_file

    def counting(path):
        hashed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(writer, "sha256_file", counting)
    result = bundle_after_build(built.report, _opts(built, dist), None)
    assert result.status == "built"
    assert not [n for n in hashed if n.endswith(".rpm")], "no RPM was read to be hashed"
    assert result.path.read_bytes() == built.bundle.path.read_bytes()


def test_a_recorded_digest_is_refused_once_the_file_changed(built, tmp_path):
    """fate-flow's RPM replaced after the build (another file, same name and size, even
    the same mtime): SHA256SUMS and the repodata describe the file that is there."""
    dist = _linked_dist(built, tmp_path)
    rpm = next(dist.glob("fate-flow-*.rpm"))
    data = bytearray(rpm.read_bytes())
    old = rpm.stat()
    data[-100] ^= 0xFF  # in the payload: the header still parses
    rpm.unlink()  # a new file; the session's dist/ keeps its own
    rpm.write_bytes(bytes(data))
    os.utime(rpm, ns=(old.st_atime_ns, old.st_mtime_ns))
    result = bundle_after_build(built.report, _opts(built, dist), None)
    top = unpack(result.path, tmp_path / "unpacked")
    sums = (top / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(data).hexdigest()}  rpms/{rpm.name}\n" in sums
    check = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=top,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    problems = [f for f in verify_bundle(result.path) if f.rule == "repodata"]
    assert problems == [], problems


def _package_xml(path: Path) -> str:
    """The <package> element of a one-package repodata XML file."""
    text = gzip.decompress(path.read_bytes()).decode()
    return text[text.index("<package"):text.rindex("</package>") + len("</package>")]


def test_repodata_from_the_header_alone_is_what_createrepo_c_makes_of_the_file(
        built, tmp_path):
    """createrepo_c reads only a header-only copy; the package's checksum and size are
    the real file's. Its own reading of the whole file must give the same metadata."""
    rpm = next(built.dist.glob("fate-python-*.rpm"))
    repo = tmp_path / "repo"
    repo.mkdir()
    write_repodata(repo, {f"rpms/{rpm.name}": (rpm, hashlib.sha256(rpm.read_bytes())
                                                .hexdigest())}, SDE)
    whole = cr.package_from_rpm(str(rpm), cr.SHA256, f"rpms/{rpm.name}", None, 10)
    whole.time_file = SDE
    dumps = {"primary": cr.xml_dump_primary, "filelists": cr.xml_dump_filelists,
             "other": cr.xml_dump_other}
    for kind, dump in dumps.items():
        (path,) = (repo / "repodata").glob(f"*-{kind}.xml.gz")
        assert _package_xml(path) == dump(whole).strip(), kind
    assert not list(repo.glob(".headers-*")), "the header copy is removed"

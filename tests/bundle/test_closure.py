"""The OS closure (``fate-pkg fetch --os``) goes into the bundle's rpms/ and metadata."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from packager.bundle.from_build import bundle_after_build
from packager.errors import UserError
from packager.fetch.cache import Cache
from packager.release import Artifact
from packager.repo.closure import Closure, ClosurePackage
from packager.repo.download import OS_RELEASE
from packager.repo.pipeline import closure_path
from packager.rpm import Compression, FileEntry, Package, build_rpm

from .conftest import unpack
from .test_install_sh import run

URL = "https://vault.centos.org/7.9.2009/os/x86_64/Packages/libaio-0.3.109-13.el7.x86_64.rpm"


def _os_rpm(tmp_path: Path) -> Path:
    lib = tmp_path / "libaio.so.1"
    lib.write_bytes(b"\x7fELF stand-in for libaio\n")
    pkg = Package(name="libaio", version="0.3.109", release="13.el7", summary="libaio",
                  files=[FileEntry("/usr/lib64/libaio.so.1.0.1", source=lib)])
    return build_rpm(pkg, tmp_path / "os", compression=Compression("gzip", 1),
                     sde=1_500_000_000).path


def _with_closure(built, tmp_path: Path, cached: bool):
    rpm = _os_rpm(tmp_path)
    sha = hashlib.sha256(rpm.read_bytes()).hexdigest()
    cache = Cache(tmp_path / "cache")
    pkg = ClosurePackage("libaio", "0.3.109-13.el7", "x86_64", URL, sha, rpm.stat().st_size,
                         "os", ("fate-mysql", "libaio.so.1()(64bit)"))
    Closure((pkg,), ("bash",), ("os",)).save(closure_path(cache))
    if cached:
        cache.add(rpm, Artifact(OS_RELEASE, pkg.filename, URL, pkg.size, sha, "os"))
    dist = tmp_path / "dist"
    shutil.copytree(built.dist, dist)
    opts = type(built.opts)(**{**built.opts.__dict__, "out_dir": dist, "cache": cache})
    return opts


def test_closure_rpms_are_bundled_listed_and_installable(built, core_root, tmp_path):
    opts = _with_closure(built, tmp_path, cached=True)
    result = bundle_after_build(built.report, opts, None)
    assert result.status == "built" and result.os_rpms == 1
    top = unpack(result.path, tmp_path / "unpacked")
    assert (top / "rpms" / "libaio-0.3.109-13.el7.x86_64.rpm").is_file()
    assert "  rpms/libaio-0.3.109-13.el7.x86_64.rpm\n" in (top / "SHA256SUMS").read_text()
    repo = (top / "fate-local.repo").read_text()
    assert "RPM-GPG-KEY-CentOS-7" in repo and "RPM-GPG-KEY-fate" in repo
    listed = subprocess.run(
        ["dnf", "-q", "--setopt=reposdir=/dev/null", f"--setopt=cachedir={tmp_path}/dc",
         f"--repofrompath=b,file://{top}", "--disablerepo=*", "--enablerepo=b",
         "repoquery", "--qf", "%{name}", "--whatprovides", "/usr/lib64/libaio.so.1.0.1"],
        capture_output=True, text=True)
    assert listed.stdout.split() == ["libaio"], listed.stderr
    # the OS package keeps its vendor's signature (here none): install.sh's checks accept
    # it because SHA256SUMS, signed by our key, lists it
    done = run(top, "--root", str(core_root), "--dry-run")
    assert done.returncode == 0, done.stderr


def test_closure_rpm_missing_from_the_cache_is_named(built, tmp_path):
    opts = _with_closure(built, tmp_path, cached=False)
    with pytest.raises(UserError, match="libaio-0.3.109-13.el7.x86_64.rpm"):
        bundle_after_build(built.report, opts, None)
    assert not list(opts.out_dir.glob(".fate-pkg-bundle-*"))

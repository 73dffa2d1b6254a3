"""The real-profile release, scaled down for CI: built offline, split, checked, installed."""

from __future__ import annotations

import os
import tarfile

import pytest

import packager.assemble.pipeline as pipeline
from packager import resources
from packager.assemble.pipeline import BuildOptions, run_build
from packager.bundle.from_build import bundle_after_build
from packager.rpm import Compression
from packager.sample.scaled import scaled_release
from support.rpmtool import make_scratch_root, rpm_in_root, run_rpm

#: one RPM per package spec, before the header budget splits any
SPECS = sorted(p.stem for p in (resources.specs() / "packages").glob("*.yaml"))
#: 0.004 of the real release: ~370 bulk files (real ELF .so, 148 wheels through pip).
SCALE = 0.004


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot scriptlets need root")
def test_full_profile_builds_splits_and_installs(tmp_path, monkeypatch):
    manifest, cache, _ = scaled_release(tmp_path / "rel", 0, "fate-1.4.5-full", SCALE)
    # A budget small enough that fate-python passes it at this scale: the split path of a
    # real 90k-file fate-python, with the whole pipeline (lint, state, bundle) behind it.
    monkeypatch.setattr(pipeline, "BUDGET", 48 << 10)
    opts = BuildOptions(release=str(manifest), cache=cache, out_dir=tmp_path / "dist",
                        compression=Compression("gzip", 1))
    report = run_build(opts)
    names = [o.name for o in report.outcomes]
    parts = [n for n in names if n.startswith("fate-python-")]
    # site-packages first; at this tiny budget the rest (Miniconda) is split as well
    assert parts and parts[0] == "fate-python-site-packages-a", names
    rpms = sorted(opts.out_dir.glob("*.rpm"))
    assert len(rpms) == len(SPECS) + len(parts)
    for rpm in rpms:
        assert "digests OK" in run_rpm("-K", str(rpm)).stdout
    root = make_scratch_root(tmp_path / "root")
    rpm_in_root(root, "-i", "--nodeps", *map(str, rpms))
    site = list((root / "data/projects/fate/common/python/venv/lib").glob(
        "python3*/site-packages/tensorflow"))
    assert site and any(site[0].rglob("*.so")), "the bulk wheels were installed and packaged"
    assert rpm_in_root(root, "-Va", "--nodeps", check=False).stdout.strip() == ""
    # the no-op rebuild knows the parts, and the bundle names and ships them
    again = run_build(opts)
    assert [o.name for o in again.outcomes] == names
    assert {o.status for o in again.outcomes} == {"up to date"}
    bundle = bundle_after_build(again, opts, None)
    with tarfile.open(bundle.path) as tar:
        listed = tar.extractfile(next(m for m in tar.getmembers()
                                      if m.name.endswith("/packages.txt"))).read().decode()
        shipped = [m.name for m in tar.getmembers() if m.name.endswith(".rpm")]
    assert all(p in listed.split() for p in parts)
    assert len([s for s in shipped if "/rpms/fate-" in s]) == len(SPECS) + len(parts)

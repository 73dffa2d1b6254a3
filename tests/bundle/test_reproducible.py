"""Byte-for-byte reproducible and incremental, like the RPMs."""

from __future__ import annotations

import json
import os
import shutil

from packager.bundle.from_build import bundle_after_build
from packager.bundle.writer import STATE_FILE


def _copy_dist(built, tmp_path):
    dist = tmp_path / "dist"
    shutil.copytree(built.dist, dist)
    return dist


def _opts(built, dist):
    return type(built.opts)(**{**built.opts.__dict__, "out_dir": dist})


def test_rebuild_elsewhere_at_another_time_is_byte_identical(built, tmp_path):
    dist = _copy_dist(built, tmp_path)
    (dist / STATE_FILE).unlink()
    original = built.bundle.path.read_bytes()
    (dist / built.bundle.path.name).unlink()
    for rpm in dist.glob("*.rpm"):  # new file times: copied on another day
        os.utime(rpm, (2_000_000_000, 2_000_000_000))
    result = bundle_after_build(built.report, _opts(built, dist), None)
    assert result.status == "built"
    assert result.path.read_bytes() == original


def test_nothing_changed_means_nothing_rewritten(built, tmp_path):
    dist = _copy_dist(built, tmp_path)
    path = dist / built.bundle.path.name
    before = path.stat()
    result = bundle_after_build(built.report, _opts(built, dist), None)
    assert result.status == "up to date"
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_rebuilt_rpm_rebuilds_the_bundle_and_only_its_profiles(built, tmp_path):
    dist = _copy_dist(built, tmp_path)
    state_file = dist / ".fate-pkg-build.json"
    state = json.loads(state_file.read_text())
    state["fate-flow"]["fingerprint"] = "0" * 64  # what a rebuilt fate-flow looks like
    state_file.write_text(json.dumps(state))
    opts = _opts(built, dist)
    assert bundle_after_build(built.report, opts, None).status == "built"
    assert bundle_after_build(built.report, opts, "exchange").status == "up to date", \
        "exchange has no fate-flow"
    assert not list(dist.glob(".fate-pkg-bundle-*")), "work directory removed"

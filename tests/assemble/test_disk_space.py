"""A build into a filesystem that is too small: refused up front with the filesystem and the
need named, and a disk that fills during the build is reported as a full disk with the
failed step's last log lines (its log goes with the work directory). Real tmpfs mounts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from packager.assemble import space
from packager.assemble.pipeline import run_build
from packager.errors import UserError

from .conftest import sample_options, seeded_cache

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def small_fs(tmp_path: Path):
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_too_small_a_filesystem_is_refused_before_the_build_starts(small_fs, tmp_path):
    cache = seeded_cache(tmp_path / "cache")
    events: list[tuple[str, str]] = []
    with pytest.raises(UserError) as refused:
        run_build(sample_options(cache, small_fs / "dist"), lambda *e: events.append(e))
    message = str(refused.value)
    assert message.startswith(f"not enough disk space: {small_fs}/dist is on tmpfs mounted at "
                              f"{small_fs} with 12.0 MiB free; the build needs about ")
    assert "Nothing was written." in message
    assert events == []  # nothing was staged
    assert list(small_fs.iterdir()) == []


def test_a_disk_that_fills_during_the_build_is_named(small_fs, tmp_path, monkeypatch):
    """The estimate made too low on purpose, so that the build starts and the disk fills."""
    monkeypatch.setattr(space, "HEADROOM", 0)
    monkeypatch.setattr(space, "EXPANSION", 1)
    cache = seeded_cache(tmp_path / "cache")
    with pytest.raises(UserError) as full:
        run_build(sample_options(cache, small_fs / "dist"))
    lines = str(full.value).splitlines()
    assert lines[0].startswith(f"no space left on device: {small_fs}/dist is on tmpfs mounted at "
                               f"{small_fs} with ")
    assert "the build needs about " in lines[0]
    assert any(line.startswith("  | ") for line in lines), "the failed step's log lines"
    assert list((small_fs / "dist").iterdir()) == []  # the work directory went, nothing else


def test_only_counts_what_it_builds(small_fs, tmp_path):
    """``--only fate-common --only fate-board`` (the board and the preset its unit needs)
    read the board's jar alone and make no Python environment: they fit in the 12 MiB that
    the whole release's estimate (its 64 MiB of headroom for the environment's tools
    alone) refuses."""
    cache = seeded_cache(tmp_path / "cache")
    only = ("fate-common", "fate-board")
    report = run_build(sample_options(cache, small_fs / "dist", only=only))
    assert sorted((o.name, o.status) for o in report.outcomes) == [
        ("fate-board", "built"), ("fate-common", "built")]
    assert all(o.path.is_file() for o in report.outcomes)


def test_only_names_the_inputs_of_what_it_builds(small_fs, tmp_path):
    """Refused, the message counts the inputs of the packages being built, not the release's."""
    cache = seeded_cache(tmp_path / "cache")
    messages = {}
    for only in ((), ("fate-python",)):
        with pytest.raises(UserError) as refused:
            run_build(sample_options(cache, small_fs / "dist", only=only))
        messages[only] = str(refused.value).split("x its ", 1)[1].split(" of inputs", 1)[0]
    assert messages[()] != messages[("fate-python",)], messages

"""``fate-pkg build`` with --profile / --no-bundle (the RPMs are up to date: fast)."""

from __future__ import annotations

import shutil

from packager.cli import main

from .conftest import SDE


def _args(built, dist, *extra):
    return ["build", "--offline", "--sample", "--cache", str(built.cache.root), "-o", str(dist),
            "--compression", "gzip:6", "--sign", built.signer.key_id, *extra]


def test_unknown_profile_is_one_line_exit_2_before_building(built, tmp_path, capsys,
                                                             monkeypatch):
    dist = tmp_path / "dist"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(SDE))
    assert main(_args(built, dist, "--profile", "rollsite-only")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rollsite-only" in err[0] and "exchange" in err[0]
    assert not dist.exists(), "nothing built, nothing written"


def test_profile_and_no_bundle(built, tmp_path, capsys, monkeypatch):
    dist = tmp_path / "dist"
    shutil.copytree(built.dist, dist)
    for p in dist.glob("fate-bundle-*"):
        p.unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(SDE))
    monkeypatch.setenv("GNUPGHOME", built.signer.gnupg_home)
    assert main(_args(built, dist, "--no-bundle")) == 0
    assert not list(dist.glob("fate-bundle-*"))
    assert main(_args(built, dist, "--profile", "exchange", "--json")) == 0
    out = capsys.readouterr().out
    assert '"bundle": "fate-bundle-1.4.5-exchange-el7.x86_64.tar"' in out
    made = dist / "fate-bundle-1.4.5-exchange-el7.x86_64.tar"
    assert made.read_bytes() == built.exchange.path.read_bytes()


def test_partial_build_skips_the_bundle_and_says_so(built, tmp_path, capsys, monkeypatch):
    dist = tmp_path / "dist"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(SDE))
    monkeypatch.setenv("GNUPGHOME", built.signer.gnupg_home)
    assert main(_args(built, dist, "--only", "fate-common")) == 0
    assert "bundle skipped" in capsys.readouterr().err
    assert [p.name for p in dist.glob("*.rpm")] == ["fate-common-1.4.5-1.noarch.rpm"]
    assert not list(dist.glob("fate-bundle-*"))

"""Rule 13 and the bundle as a whole: `fate-pkg check` on a real bundle dir and tarball."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import createrepo_c as cr

from packager.lint import Summary, check_paths
from tests.lint.bundlecraft import make_bundle

FATE_PKG = [sys.executable, "-m", "packager.cli"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*FATE_PKG, *args], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])


def test_good_bundle_is_clean(tmp_path, signer):
    root = make_bundle(tmp_path, signer)
    summary = Summary()
    assert check_paths([root], summary=summary) == []
    assert (summary.rpms, summary.repos, summary.scripts) == (2, 1, 2)  # install.sh, one %pre


def test_rule13_zstd_metadata(tmp_path):
    root = make_bundle(tmp_path, None, compression=cr.ZSTD_COMPRESSION)
    findings = check_paths([root])
    assert {f.rule for f in findings} == {"13"}
    assert len(findings) == 3  # primary, filelists, other
    assert all("is zstd-compressed; yum 3.4.3 needs gzip" in f.message for f in findings)


def test_rule13_sha1_checksums(tmp_path):
    root = tmp_path / "bundle"
    make_bundle(tmp_path, None)
    repomd = root / "repodata" / "repomd.xml"
    repomd.write_text(repomd.read_text().replace('type="sha256"', 'type="sha1"', 1))
    findings = check_paths([root])
    assert [f.rule for f in findings] == ["13"]
    assert "checksum type 'sha1', sha256 expected" in findings[0].message


def test_rule13_missing_metadata_kind(tmp_path):
    root = make_bundle(tmp_path, None)
    repomd = root / "repodata" / "repomd.xml"
    text = repomd.read_text()
    start = text.index('<data type="other">')
    end = text.index("</data>", start) + len("</data>")
    repomd.write_text(text[:start] + text[end:])
    assert [f.message for f in check_paths([root])] == ["repomd.xml lists no other metadata"]


def test_bundle_tarball_with_top_directory_and_cli(tmp_path, signer):
    root = make_bundle(tmp_path, signer, top="fate-bundle-1.4.5-el7.x86_64")
    (root / "install.sh").write_text("#!/bin/bash\ncd $1\nlocal -\n")
    tarball = tmp_path / "fate-bundle-1.4.5-el7.x86_64.tar"
    with tarfile.open(tarball, "w") as tf:
        tf.add(root, arcname=root.name)
    r = run_cli("check", "--json", str(tarball))
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is False
    where = f"{root.name}/install.sh"
    assert all(f["artifact"] == f"{tarball}/{where}" for f in out["findings"]), out
    messages = [f["message"] for f in out["findings"]]
    assert "no 'set -euo pipefail'" in messages
    assert any("local - (saving shell options) needs bash 4.4" in m for m in messages)
    assert any("SC2086" in m for m in messages)
    assert {f["rule"] for f in out["findings"]} == {"19"}
    human = run_cli("check", str(tarball))
    assert human.returncode == 1
    assert human.stdout.splitlines()[0].split() == ["rule", "artifact", "finding"]
    assert "19: bash 4.2, shellcheck" in human.stdout


def test_cli_exit_codes(tmp_path, signer):
    root = make_bundle(tmp_path, signer)
    clean = run_cli("check", str(root), *map(str, (root / "rpms").glob("*.rpm")))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stderr == ""
    assert clean.stdout.startswith("clean: 4 RPMs (0 foreign skipped), ")
    assert json.loads(run_cli("check", "--json", str(root)).stdout)["verdict"] == "clean"
    missing = run_cli("check", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"fate-pkg: error: {tmp_path / 'nope'}: no such file or " \
                                     "directory"


def test_rule13_repo_file_must_check_signatures_with_the_bundle_key(tmp_path, signer):
    root = make_bundle(tmp_path, signer)
    repo = root / "fate-local.repo"
    repo.write_text(repo.read_text().replace("gpgcheck=1", "gpgcheck=0"))
    assert [(f.rule, f.message) for f in check_paths([root])] == [
        ("13", "[fate-local] gpgcheck=0, but the bundle carries its key: set gpgcheck=1")]
    repo.write_text(repo.read_text().replace("gpgcheck=0", "gpgcheck=1"))
    (root / "RPM-GPG-KEY-fate").unlink()
    assert [(f.rule, f.message) for f in check_paths([root])] == [
        ("13", "[fate-local] gpgcheck=1, but the bundle has no RPM-GPG-KEY-fate")]

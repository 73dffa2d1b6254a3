"""`fate-pkg verify` on a real bundle, then on damaged copies of it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from packager.errors import UserError
from packager.lint import verify_bundle
from packager.rpm import read_rpm
from packager.rpm import tags as t
from tests.lint.bundlecraft import make_bundle, sign_sums, write_sums


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, signer) -> Path:
    return make_bundle(tmp_path_factory.mktemp("pristine"), signer)


@pytest.fixture
def bundle(tmp_path, pristine) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(pristine, copy)
    return copy


def checks(findings) -> set[tuple[str, str, str]]:
    return {(f.rule, f.artifact.rsplit("/", 1)[-1], f.message) for f in findings}


def first_rpm(root: Path) -> Path:
    return sorted((root / "rpms").glob("*.rpm"))[0]


def test_good_bundle_verifies(bundle):
    assert verify_bundle(bundle) == []


def test_good_unsigned_bundle_verifies(tmp_path):
    assert verify_bundle(make_bundle(tmp_path, None)) == []


def rpm_k(path: Path) -> int:
    """The real rpm's digest check (Debian's rpm 4.18), as an independent oracle."""
    return subprocess.run(["rpm", "-K", "--nosignature", str(path)], capture_output=True).returncode


def test_corrupted_rpm(bundle):
    rpm = first_rpm(bundle)
    assert rpm_k(rpm) == 0
    data = bytearray(rpm.read_bytes())
    data[-100] ^= 0xFF  # one bit pattern in the payload's last block
    rpm.write_bytes(bytes(data))
    assert rpm_k(rpm) != 0
    found = checks(verify_bundle(bundle))
    name = rpm.name
    assert ("sums", name, "SHA256 does not match SHA256SUMS (changed or corrupted)") in found
    assert ("digest", name, "MD5 header+payload digest does not match (rpm -K: NOT OK)") in found
    assert ("repodata", name, "checksum differs from primary.xml") in found
    assert any(r == "signature" and n == name and "header+payload signature (PGP): bad "
               "signature" in m for r, n, m in found), found
    assert not any("header signature (RSA)" in m for _, _, m in found), \
        "the header itself is intact"


def test_missing_file(bundle):
    (bundle / "party.yaml.example").unlink()
    assert checks(verify_bundle(bundle)) == {
        ("layout", "bundle", "party.yaml.example is missing"),
        ("sums", "party.yaml.example", "listed in SHA256SUMS but missing")}


def test_missing_rpm_breaks_repodata(bundle):
    rpm = first_rpm(bundle)
    rpm.unlink()
    found = checks(verify_bundle(bundle))
    assert ("sums", rpm.name, "listed in SHA256SUMS but missing") in found
    assert any(r == "repodata" and n == rpm.name and "its file is missing" in m
               for r, n, m in found), found


def test_bad_sums_line_and_unlisted_file(bundle, signer):
    sums = bundle / "SHA256SUMS"
    lines = sums.read_text().splitlines()
    readme = next(i for i, line in enumerate(lines) if line.endswith("  README"))
    lines[readme] = "not-a-hash  README"
    sums.write_text("\n".join(lines) + "\n")
    sign_sums(bundle, signer)  # a correctly signed but wrong file: still caught
    found = checks(verify_bundle(bundle))
    assert ("sums", "SHA256SUMS", f"line {readme + 1} is not '<sha256>  <relative path>': "
            "'not-a-hash  README'") in found
    assert ("sums", "README", "not listed in SHA256SUMS") in found
    assert len(found) == 2


def test_sums_written_with_dot_slash_paths(bundle):
    sums = bundle / "SHA256SUMS"
    sums.write_text(sums.read_text().replace("  ", "  ./"))
    assert [f.rule for f in verify_bundle(bundle)] == ["signature"]  # .asc covers the old text


def test_extra_file_not_listed(bundle):
    (bundle / "rpms" / "stray.txt").write_text("left behind\n")
    assert checks(verify_bundle(bundle)) == {("sums", "stray.txt", "not listed in SHA256SUMS")}


def test_tampered_sums_signature(bundle, other_signer):
    sums = bundle / "SHA256SUMS"
    sums.write_text(sums.read_text() + "")  # unchanged bytes: still verifies
    assert verify_bundle(bundle) == []
    (bundle / "README").write_text("changed\n")
    write_sums(bundle)  # someone re-hashed after changing README, without the key
    assert checks(verify_bundle(bundle)) == {
        ("signature", "SHA256SUMS.asc", "bad signature (data or signature changed)")}
    sign_sums(bundle, other_signer)  # ... or signed with their own key
    assert checks(verify_bundle(bundle)) == {
        ("signature", "SHA256SUMS.asc", "made by a key other than the bundle's key")}


def test_rpm_signed_by_another_key(bundle, other_signer, tmp_path):
    """A package re-signed by a different key: digests fine, signatures refused."""
    from tests.lint.craft import rewrite
    rpm = first_rpm(bundle)
    parsed = read_rpm(rpm)
    rsa = other_signer.sign_bytes(parsed.header_bytes)
    pgp = other_signer.sign_stream([parsed.header_bytes, *parsed.payload()])
    resigned = rewrite(rpm, tmp_path / rpm.name, signature=lambda s: s.update(
        {t.SIG_RSA: (t.T.BIN, rsa), t.SIG_PGP: (t.T.BIN, pgp)}))
    shutil.move(resigned, rpm)
    found = {(r, m) for r, n, m in checks(verify_bundle(bundle)) if n == rpm.name}
    assert ("signature", "header signature (RSA): made by a key other than the bundle's key") \
        in found
    assert ("signature", "header+payload signature (PGP): made by a key other than the "
            "bundle's key") in found
    assert not any(r == "digest" for r, _ in found)


def test_unsigned_rpm_in_a_signed_bundle(bundle, tmp_path):
    from tests.lint.craft import rewrite
    rpm = first_rpm(bundle)

    def unsign(s):
        del s[t.SIG_RSA]
        del s[t.SIG_PGP]
    shutil.move(rewrite(rpm, tmp_path / rpm.name, signature=unsign), rpm)
    found = checks(verify_bundle(bundle))
    assert ("signature", rpm.name, "unsigned, but the bundle ships RPM-GPG-KEY-fate: yum with "
            "gpgcheck=1 refuses it") in found


def test_tarball_with_top_directory_and_cli(tmp_path, signer):
    root = make_bundle(tmp_path / "unpacked", signer, top="fate-bundle-1.4.5-el7.x86_64")
    tarball = tmp_path / "fate-bundle-1.4.5-el7.x86_64.tar"
    with tarfile.open(tarball, "w") as tf:
        tf.add(root, arcname=root.name)
    cli = [sys.executable, "-m", "packager.cli", "verify"]
    cwd = Path(__file__).resolve().parents[2]
    ok = subprocess.run([*cli, str(tarball)], capture_output=True, text=True, cwd=cwd)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    files = [p for p in root.rglob("*") if p.is_file()
             and p.name not in ("SHA256SUMS", "SHA256SUMS.asc")]
    assert ok.stdout.splitlines() == [
        f"{tarball}: intact: SHA256SUMS signed by the bundle's own RPM-GPG-KEY-fate; "
        f"{len(files)} files match SHA256SUMS; 2 RPMs with their digests (2 signed); "
        "2 repodata entries"]
    assert ok.stderr == ""
    summary = json.loads(subprocess.run([*cli, "--json", str(tarball)], capture_output=True,
                                        text=True, cwd=cwd).stdout)["summary"]
    assert summary == {"files": len(files), "sums_signed": True, "key": True, "rpms": 2,
                       "rpms_signed": 2, "repodata_packages": 2}
    (root / "README").write_text("changed\n")
    bad = subprocess.run([*cli, "--json", str(root.parent)], capture_output=True, text=True,
                         cwd=cwd)
    assert bad.returncode == 1
    out = json.loads(bad.stdout)
    assert out["ok"] is False and out["verdict"] == "1 problems"
    assert [(f["rule"], f["artifact"]) for f in out["findings"]] == [
        ("sums", f"{root}/README")]
    nope = subprocess.run([*cli, str(tmp_path / "nope.tar.gz")], capture_output=True,
                          text=True, cwd=cwd)
    assert nope.returncode == 2 and "no such file" in nope.stderr
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    with pytest.raises(UserError, match="not a readable tar"):
        verify_bundle(junk)


def test_verdict_says_when_a_bundle_is_unsigned(tmp_path):
    root = make_bundle(tmp_path, None)
    ok = subprocess.run([sys.executable, "-m", "packager.cli", "verify", str(root)],
                        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"{root}: intact: unsigned (no RPM-GPG-KEY-fate, no "
                                "SHA256SUMS.asc); ")
    assert "2 RPMs with their digests (0 signed)" in ok.stdout

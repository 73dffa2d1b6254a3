"""What the bundle tarball holds, checked with tools that are not our code where possible:
tar/gzip headers by the stdlib readers, sums by ``sha256sum -c``, the signature by ``gpg
--verify`` in a fresh keyring, the metadata by sqlite3 and rpm, and the lint's verify."""

from __future__ import annotations

import bz2
import gzip
import sqlite3
import subprocess
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

from packager.lint import verify_bundle
from packager.lint.check import check_paths

from .conftest import ALL, EXCHANGE, SDE, unpack

REPO_NS = {"r": "http://linux.duke.edu/metadata/repo"}
TOP_FILES = {"README", "SHA256SUMS", "SHA256SUMS.asc", "RPM-GPG-KEY-fate", "fate-local.repo",
             "install.sh", "packages.txt", "party.yaml.example", "party.schema.json"}


def test_file_names_carry_version_and_non_default_profile(built):
    assert built.bundle.path.name == "fate-bundle-1.4.5-el7.x86_64.tar"
    assert built.exchange.path.name == "fate-bundle-1.4.5-exchange-el7.x86_64.tar"
    assert built.bundle.path.parent == built.dist


def test_tar_members_are_normalised_and_sorted(built):
    raw = built.bundle.path.read_bytes()
    # an uncompressed GNU tar (its RPMs are compressed already), whole 10 KiB records
    assert raw[257:265] == b"ustar  \0" and len(raw) % tarfile.RECORDSIZE == 0
    with tarfile.open(built.bundle.path) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    top = "fate-bundle-1.4.5-el7.x86_64"
    assert names == sorted(names)
    assert all(n == top or n.startswith(top + "/") for n in names)
    assert {m.uid for m in members} == {0} and {m.gid for m in members} == {0}
    assert {m.uname for m in members} == {""} and {m.gname for m in members} == {""}
    assert {m.mtime for m in members} == {SDE}
    assert all(m.isdir() or m.isfile() for m in members)
    top_level = {n[len(top) + 1:] for n in names if n.count("/") == 1}
    assert top_level == TOP_FILES | {"rpms", "repodata"}
    modes = {m.name.rsplit("/", 1)[-1]: m.mode for m in members}
    assert modes["install.sh"] == 0o755 and modes["README"] == 0o644


def test_rpms_are_exactly_the_profiles(built, tmp_path):
    """packages.txt lists the profile's packages; rpms/ also carries its extras (the
    all-in-one bundle's fate-deploy, installed on the control host only when named)."""
    for result, expected, extras in ((built.bundle, ALL, {"fate-deploy"}),
                                     (built.exchange, EXCHANGE, set())):
        top = unpack(result.path, tmp_path / result.profile.name)
        names = {subprocess.run(["rpm", "-qp", "--nosignature", "--qf", "%{NAME}", str(p)],
                                capture_output=True, text=True, check=True).stdout
                 for p in (top / "rpms").glob("*.rpm")}
        assert names == set(expected) | extras
        listed = [line for line in (top / "packages.txt").read_text().splitlines()
                  if line and not line.startswith("#")]
        assert listed == list(expected)


def test_sums_and_signature_verify_with_standard_tools(bundle_dir, tmp_path):
    done = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=bundle_dir,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = {line.split("  ", 1)[1] for line in (bundle_dir / "SHA256SUMS").read_text()
              .splitlines()}
    every = {str(p.relative_to(bundle_dir)) for p in bundle_dir.rglob("*") if p.is_file()}
    assert listed == every - {"SHA256SUMS", "SHA256SUMS.asc"}
    assert (bundle_dir / "SHA256SUMS.asc").read_text().startswith("-----BEGIN PGP SIGNATURE")
    home = tmp_path / "verify-gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch"]
    try:
        subprocess.run([*gpg, "--import", str(bundle_dir / "RPM-GPG-KEY-fate")], check=True,
                       capture_output=True)
        ok = subprocess.run([*gpg, "--status-fd", "1", "--verify", "SHA256SUMS.asc",
                             "SHA256SUMS"], cwd=bundle_dir, capture_output=True, text=True)
        assert ok.returncode == 0 and "VALIDSIG" in ok.stdout
        (bundle_dir / "SHA256SUMS").write_text(
            (bundle_dir / "SHA256SUMS").read_text().replace("  rpms/", "  rpms/./", 1))
        bad = subprocess.run([*gpg, "--verify", "SHA256SUMS.asc", "SHA256SUMS"],
                             cwd=bundle_dir, capture_output=True, text=True)
        assert bad.returncode != 0, "a changed SHA256SUMS must not verify"
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"],
                       capture_output=True)


def test_every_rpm_is_signed_by_the_shipped_key(bundle_dir, tmp_path):
    db = tmp_path / "rpmdb"
    subprocess.run(["rpm", "--dbpath", str(db), "--initdb"], check=True)
    subprocess.run(["rpm", "--dbpath", str(db), "--import",
                    str(bundle_dir / "RPM-GPG-KEY-fate")], check=True)
    for p in (bundle_dir / "rpms").glob("*.rpm"):
        out = subprocess.run(["rpm", "--dbpath", str(db), "-K", str(p)],
                             capture_output=True, text=True)
        assert out.returncode == 0 and "signatures OK" in out.stdout, out.stdout


def _repomd(top: Path) -> dict[str, ET.Element]:
    root = ET.parse(top / "repodata" / "repomd.xml").getroot()
    assert root.findtext("r:revision", namespaces=REPO_NS) == str(SDE)
    return {d.get("type"): d for d in root.findall("r:data", REPO_NS)}


def test_repodata_is_what_yum_3_4_3_reads(bundle_dir):
    records = _repomd(bundle_dir)
    assert set(records) == {"primary", "filelists", "other", "primary_db", "filelists_db",
                            "other_db"}
    for kind, rec in records.items():
        href = rec.find("r:location", REPO_NS).get("href")
        data = (bundle_dir / href).read_bytes()
        assert rec.find("r:checksum", REPO_NS).get("type") == "sha256"
        assert rec.findtext("r:timestamp", namespaces=REPO_NS) == str(SDE)
        if kind.endswith("_db"):
            assert href.endswith(".sqlite.bz2") and data[:3] == b"BZh"
            assert rec.findtext("r:database_version", namespaces=REPO_NS) == "10"
        else:
            assert href.endswith(".xml.gz") and data[:2] == b"\x1f\x8b"
    assert not list(bundle_dir.rglob("*.zst"))


def test_sqlite_primary_lists_the_rpms_with_their_real_checksums(bundle_dir, tmp_path):
    rec = _repomd(bundle_dir)["primary_db"]
    href = rec.find("r:location", REPO_NS).get("href")
    db = tmp_path / "primary.sqlite"
    db.write_bytes(bz2.decompress((bundle_dir / href).read_bytes()))
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT name, location_href, pkgId, checksum_type, time_file "
                           "FROM packages").fetchall()
        dbversion = con.execute("SELECT dbversion FROM db_info").fetchone()[0]
    finally:
        con.close()
    assert dbversion == 10
    assert {r[0] for r in rows} == set(ALL) | {"fate-deploy"}
    for _name, location, pkgid, ctype, time_file in rows:
        sha = subprocess.run(["sha256sum", str(bundle_dir / location)], capture_output=True,
                             text=True, check=True).stdout.split()[0]
        assert (ctype, pkgid, time_file) == ("sha256", sha, SDE)
        assert location.startswith("rpms/")
    primary_href = _repomd(bundle_dir)["primary"].find("r:location", REPO_NS).get("href")
    with gzip.open(bundle_dir / primary_href) as f:
        xml = f.read().decode()
    assert xml.count("<package type=\"rpm\">") == len(ALL) + 1  # + fate-deploy


def test_lint_verify_and_el7_rules_find_nothing_in_the_bundles_own_files(built, bundle_dir,
                                                                        tmp_path):
    """The lint (another engineer's code) as a second oracle: verify on the tarball, the el7
    rules (13 repo metadata + repo file, 19 bash 4.2/shellcheck/strict mode) on the files
    this bundle adds around the RPMs."""
    assert verify_bundle(built.bundle.path) == []
    own = tmp_path / "own"
    own.mkdir()
    for name in ("install.sh", "fate-local.repo", "RPM-GPG-KEY-fate", "repodata"):
        src = bundle_dir / name
        if src.is_dir():
            subprocess.run(["cp", "-a", str(src), str(own / name)], check=True)
        else:
            (own / name).write_bytes(src.read_bytes())
            (own / name).chmod(src.stat().st_mode)
    findings = check_paths([own])
    assert findings == [], findings

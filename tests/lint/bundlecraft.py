"""Build a real bundle directory for the verify and repodata tests.

RPMs from the project's writer (signed), repository metadata from createrepo_c's Python
bindings (the way the harness notes describe, with the compression asked for), the key,
the .repo file, SHA256SUMS written here with hashlib and signed with gpg.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import createrepo_c as cr

from packager.rpm import Compression, FileEntry, Script, Signer
from tests.lint.craft import build, package

INSTALL_SH = """\
#!/bin/bash
# Install the FATE bundle from its own directory (yum localinstall through the .repo file).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sed "s|@BUNDLE@|$here|" "$here/fate-local.repo" > /etc/yum.repos.d/fate-local.repo
rpm --import "$here/RPM-GPG-KEY-fate"
yum -y --disablerepo='*' --enablerepo=fate-local install fate-lint fate-extra
"""


def make_repodata(root: Path, compression: int = cr.GZ_COMPRESSION,
                  checksum: int = cr.SHA256) -> None:
    """createrepo_c metadata for ``root/rpms/*.rpm`` in ``root/repodata``."""
    repodata = root / "repodata"
    repodata.mkdir()
    suffix = cr.compression_suffix(compression)
    rpms = sorted((root / "rpms").glob("*.rpm"))
    files = {
        "primary": cr.PrimaryXmlFile(str(repodata / f"primary.xml{suffix}"), compression),
        "filelists": cr.FilelistsXmlFile(str(repodata / f"filelists.xml{suffix}"), compression),
        "other": cr.OtherXmlFile(str(repodata / f"other.xml{suffix}"), compression),
    }
    for f in files.values():
        f.set_num_of_pkgs(len(rpms))
    for rpm in rpms:
        pkg = cr.package_from_rpm(str(rpm), checksum)
        pkg.location_href = f"rpms/{rpm.name}"
        files["primary"].add_pkg(pkg)
        files["filelists"].add_pkg(pkg)
        files["other"].add_pkg(pkg)
    repomd = cr.Repomd()
    repomd.set_revision("1600000000")
    for kind, f in files.items():
        f.close()
        rec = cr.RepomdRecord(kind, str(repodata / f"{kind}.xml{suffix}"))
        rec.fill(checksum)
        rec.rename_file()
        repomd.set_record(rec)
    (repodata / "repomd.xml").write_text(repomd.xml_dump())


def write_sums(root: Path) -> None:
    lines = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and rel not in ("SHA256SUMS", "SHA256SUMS.asc"):
            lines.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {rel}\n")
    (root / "SHA256SUMS").write_text("".join(lines))


def sign_sums(root: Path, signer: Signer) -> None:
    sig = subprocess.run(
        ["gpg", "--homedir", signer.gnupg_home, "--batch", "--armor", "--detach-sign",
         "--local-user", signer.key_id, "--output", "-", str(root / "SHA256SUMS")],
        capture_output=True, check=True).stdout
    (root / "SHA256SUMS.asc").write_bytes(sig)


def make_bundle(tmp: Path, signer: Signer | None, *, top: str | None = None,
                compression: int = cr.GZ_COMPRESSION) -> Path:
    """A complete bundle directory (optionally under one top directory); returns its root."""
    root = tmp / top if top else tmp / "bundle"
    rpms = root / "rpms"
    rpms.mkdir(parents=True)
    scratch = tmp / ".scratch"  # package sources; hidden names are not bundle content
    scratch.mkdir()
    src = scratch / "extra.txt"
    src.write_text("extra\n")
    pre = Script("getent group apps >/dev/null || groupadd -r apps\n")
    build(rpms, package(scratch, scripts={"pre": pre}), signer=signer,
          compression=Compression("xz"))
    build(rpms, package(scratch, name="fate-extra", files=[
        FileEntry("/opt/fate-lint/extra.txt", "file", source=src)]), signer=signer,
        compression=Compression("gzip"))
    make_repodata(root, compression)
    (root / "fate-local.repo").write_text(
        "[fate-local]\nname=FATE offline bundle\nbaseurl=file://@BUNDLE@\nenabled=1\n"
        f"gpgcheck={1 if signer else 0}\n"
        + ("gpgkey=file://@BUNDLE@/RPM-GPG-KEY-fate\n" if signer else ""))
    (root / "install.sh").write_text(INSTALL_SH)
    os.chmod(root / "install.sh", 0o755)
    (root / "party.yaml.example").write_text("party_id: 9999\n")
    (root / "README").write_text("FATE 1.4.5 offline bundle for CentOS 7\n")
    if signer:
        (root / "RPM-GPG-KEY-fate").write_bytes(signer.export_public_key())
    write_sums(root)
    if signer:
        sign_sums(root, signer)
    return root

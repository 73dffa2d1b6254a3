"""``SHA256SUMS`` (``sha256sum -c`` format) and its detached armored signature.

install.sh checks every file against SHA256SUMS, and SHA256SUMS against the bundle's own
key, before it changes anything; the RPM signatures then cover what yum installs.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from packager.errors import UserError
from packager.rpm import Signer

SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.asc"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_sums(top: Path) -> Path:
    """Hash every file under ``top`` (sorted paths, relative to ``top``)."""
    lines = []
    for path in sorted(p for p in top.rglob("*") if p.is_file()):
        rel = path.relative_to(top).as_posix()
        if rel in (SUMS, SIGNATURE):
            continue
        if any(c in rel for c in "\\\n"):
            raise UserError(f"{rel}: a file name sha256sum would escape")
        lines.append(f"{file_sha256(path)}  {rel}\n")
    out = top / SUMS
    out.write_text("".join(lines))
    return out


def sign_sums(sums: Path, signer: Signer) -> Path:
    """``gpg --detach-sign --armor`` with the signature time = SOURCE_DATE_EPOCH.

    RSA PKCS#1 v1.5 signatures are deterministic, so with a fixed time the armored
    signature is byte-identical from build to build.
    """
    out = sums.with_name(SIGNATURE)
    cmd = signer._sign_cmd()
    # _sign_cmd ends with --no-armor --detach-sign ... --output -: ask for armor instead.
    cmd = [("--armor" if a == "--no-armor" else a) for a in cmd]
    done = subprocess.run([*cmd, str(sums)], capture_output=True)
    if done.returncode != 0 or not done.stdout.startswith(b"-----BEGIN PGP SIGNATURE-----"):
        msg = done.stderr.decode(errors="replace").strip().splitlines()
        raise UserError(f"gpg could not sign {sums.name} with key {signer.key_id}: "
                        f"{msg[-1] if msg else 'no signature'}")
    out.write_bytes(done.stdout)
    return out

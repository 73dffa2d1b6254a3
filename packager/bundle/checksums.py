"""``SHA256SUMS`` (``sha256sum -c`` format) and its detached armored signature.

install.sh checks every file against SHA256SUMS, and SHA256SUMS against the bundle's own
key, before it changes anything; the RPM signatures then cover what yum installs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from packager.errors import UserError
from packager.filestate import sha256_file
from packager.rpm import Signer
from packager.rpm.sign import SigningError

SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.asc"


def write_sums(top: Path, known: Mapping[str, str] | None = None) -> Path:
    """Hash every file under ``top`` (sorted paths, relative to ``top``); ``known`` gives
    the sha256 of some already (the RPMs, from the repodata pass)."""
    known = known or {}
    lines = []
    for path in sorted(p for p in top.rglob("*") if p.is_file()):
        rel = path.relative_to(top).as_posix()
        if rel in (SUMS, SIGNATURE):
            continue
        if any(c in rel for c in "\\\n"):
            raise UserError(f"{rel}: a file name sha256sum would escape")
        lines.append(f"{known.get(rel) or sha256_file(path)}  {rel}\n")
    out = top / SUMS
    out.write_text("".join(lines))
    return out


def sign_sums(sums: Path, signer: Signer) -> Path:
    """``gpg --detach-sign --armor`` with the signature time = SOURCE_DATE_EPOCH.

    RSA PKCS#1 v1.5 signatures are deterministic, so with a fixed time the armored
    signature is byte-identical from build to build.
    """
    out = sums.with_name(SIGNATURE)
    try:
        out.write_bytes(signer.sign_file_armored(str(sums)))
    except SigningError as exc:
        raise UserError(str(exc)) from None
    return out

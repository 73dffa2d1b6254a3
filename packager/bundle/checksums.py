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
    """One line per file of the bundle, sorted by path relative to ``top``: every file
    under ``top`` (hashed here) and every path ``known`` gives the sha256 of (the RPMs,
    which the tar takes from dist/ and the cache rather than from ``top``)."""
    known = known or {}
    here = {p.relative_to(top).as_posix(): p for p in top.rglob("*") if p.is_file()}
    lines = []
    for rel in sorted(here.keys() | known.keys(), key=lambda r: r.split("/")):  # as Paths
        if rel in (SUMS, SIGNATURE):
            continue
        if any(c in rel for c in "\\\n"):
            raise UserError(f"{rel}: a file name sha256sum would escape")
        lines.append(f"{known.get(rel) or sha256_file(here[rel])}  {rel}\n")
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

"""Throw-away GPG keys for signing tests (no passphrase, in their own GNUPGHOME)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from packager.rpm import Signer


def make_key(home: Path, key_type: str = "RSA", length: str | None = "2048") -> str:
    """Create a key in ``home`` (a new directory); returns its key id."""
    home.mkdir(mode=0o700, parents=True)
    params = ["%no-protection", f"Key-Type: {key_type}"]
    if length:
        params.append(f"Key-Length: {length}")
    if key_type == "eddsa":
        params.append("Key-Curve: ed25519")
    params += ["Name-Real: fate-pkg test", "Name-Email: test@fate-pkg.invalid",
               "Expire-Date: 0", "%commit", ""]
    subprocess.run(["gpg", "--homedir", str(home), "--batch", "--gen-key"],
                   input="\n".join(params), text=True, check=True, capture_output=True)
    out = subprocess.run(["gpg", "--homedir", str(home), "--with-colons", "--list-keys"],
                         capture_output=True, text=True, check=True).stdout
    return next(line.split(":")[4] for line in out.splitlines() if line.startswith("pub"))


def rsa_signer(home: Path, sde: int | None = 1600000000) -> Signer:
    return Signer(make_key(home), str(home), sde)

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from packager.rpm import Signer


def _gen_key(home: Path, key_type: str, length: str | None) -> str:
    home.mkdir(mode=0o700)
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


@pytest.fixture(scope="session")
def rsa_signer(tmp_path_factory) -> Signer:
    home = tmp_path_factory.mktemp("gpg") / "rsa"
    return Signer(_gen_key(home, "RSA", "2048"), str(home), 1600000000)


@pytest.fixture(scope="session")
def eddsa_signer(tmp_path_factory) -> Signer:
    home = tmp_path_factory.mktemp("gpg") / "ed"
    return Signer(_gen_key(home, "eddsa", None), str(home), 1600000000)


@pytest.fixture
def tree(tmp_path) -> Path:
    """A small source tree with every kind of entry the writer handles."""
    src = tmp_path / "src"
    (src / "bin").mkdir(parents=True)
    (src / "conf").mkdir()
    (src / "share" / "empty").mkdir(parents=True)
    (src / "bin" / "tool").write_bytes(b"#!/bin/sh\necho tool\n")
    (src / "bin" / "tool").chmod(0o755)
    (src / "conf" / "app.conf").write_text("setting=1\n")
    (src / "share" / "data.bin").write_bytes(bytes(range(256)) * 64)
    (src / "share" / "link").symlink_to("data.bin")
    return src

from __future__ import annotations

from pathlib import Path

import pytest

from packager.rpm import Signer
from support.gpgkeys import make_key
from support.gpgkeys import rsa_signer as rsa_signer_for


@pytest.fixture(scope="session")
def rsa_signer(tmp_path_factory) -> Signer:
    home = tmp_path_factory.mktemp("gpg") / "rsa"
    return rsa_signer_for(home)


@pytest.fixture(scope="session")
def eddsa_signer(tmp_path_factory) -> Signer:
    home = tmp_path_factory.mktemp("gpg") / "ed"
    return Signer(make_key(home, "eddsa", None), str(home), 1600000000)


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

from __future__ import annotations

from pathlib import Path

import pytest

from packager.rpm import Signer
from tests.lint.craft import gpg_key


@pytest.fixture(scope="session")
def signer(tmp_path_factory) -> Signer:
    home = tmp_path_factory.mktemp("gpg") / "rsa"
    return Signer(gpg_key(home), str(home), 1600000000)


@pytest.fixture(scope="session")
def other_signer(tmp_path_factory) -> Signer:
    """A second RSA key: signatures by it must not pass as the bundle's."""
    home = tmp_path_factory.mktemp("gpg") / "other"
    return Signer(gpg_key(home), str(home), 1600000000)


@pytest.fixture(scope="session")
def directives() -> Path:
    """The project's systemd 219 table (units branch), the one `fate-pkg units lint` uses."""
    from packager.units_lint import DIRECTIVES_FILE
    return DIRECTIVES_FILE

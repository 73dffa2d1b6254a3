"""Where the CPython 3.6 of the on-host tests is (CentOS 7's python3 is 3.6.8).

``scripts/setup.sh`` finds one with ``scripts/find-python36.sh`` (pyenv's 3.6.15 on these
machines) and makes ``.venv36`` from it, with pytest 7.0.1 and pip 10.0.1's wheel. Tests
that need it skip, saying why, where it is missing; CI sets ``FATE_PKG_REQUIRE_PY36=1``
so that a missing 3.6 fails instead of skipping.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV36 = REPO / ".venv36"


def python36() -> Path:
    """A plain CPython 3.6 (no test tools installed into it), or skip."""
    found = subprocess.run([str(REPO / "scripts/find-python36.sh")], capture_output=True,
                           text=True)
    if found.returncode != 0:
        _missing("no CPython 3.6 on this machine (scripts/find-python36.sh found none; "
                 "set FATE_PKG_PYTHON36)")
    return Path(found.stdout.strip())


def venv36() -> Path:
    """``.venv36`` (Python 3.6 with pytest 7.0.1), or skip."""
    python36()
    if not (VENV36 / ".fate-pkg-installed").is_file():
        _missing(f"{VENV36} is not set up (run scripts/setup.sh)")
    return VENV36


def pip_wheel(version: str) -> Path:
    wheels = sorted((venv36() / "wheels").glob(f"pip-{version}-*.whl"))
    if not wheels:
        _missing(f"pip {version} is not in {VENV36}/wheels (run scripts/setup.sh)")
    return wheels[0]


def _missing(why: str) -> None:
    if os.environ.get("FATE_PKG_REQUIRE_PY36") == "1":
        pytest.fail(f"{why}; FATE_PKG_REQUIRE_PY36=1 forbids skipping", pytrace=False)
    pytest.skip(why)

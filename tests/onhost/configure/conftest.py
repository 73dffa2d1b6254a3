"""Fixtures for fate-configure: a scratch install root, the CLI run in-process."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from packager.onhost.configure import cli
from tests.support.configure import Result, make_root


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    return make_root(tmp_path / "root")


@pytest.fixture
def short_root():
    """Like scratch_root, but with a short path: a MySQL socket path must fit 107 bytes."""
    base = Path(tempfile.mkdtemp(prefix="fc-"))
    os.chmod(base, 0o755)
    try:
        yield make_root(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def fc(capsys):
    """Run ``fate-configure ARGS`` in-process; returns (rc, stdout, stderr)."""
    def run(*args: str) -> Result:
        rc = cli.main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(rc, captured.out, captured.err)
    return run

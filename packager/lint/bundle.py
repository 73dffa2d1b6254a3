"""Open a bundle (``.tar``, ``.tar.gz`` or unpacked directory) and find its layout (issue 5).

A bundle is ``rpms/``, ``repodata/``, ``fate-local.repo``, ``install.sh``,
``party.yaml.example``, ``README``, ``SHA256SUMS`` (+ ``SHA256SUMS.asc`` and
``RPM-GPG-KEY-fate`` when signed), possibly under one top directory
``fate-bundle-<ver>-el7.x86_64/``. A tarball is unpacked with the project's safe extractor
into a temporary directory that is removed afterwards, whatever happens.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from packager.errors import UserError
from packager.stage.extract import extract

REQUIRED = ("rpms", "repodata", "fate-local.repo", "install.sh", "party.yaml.example",
            "README", "SHA256SUMS")
KEY_NAME = "RPM-GPG-KEY-fate"
SUMS = "SHA256SUMS"
SUMS_SIG = "SHA256SUMS.asc"
TARBALL_SUFFIXES = (".tar", ".tar.gz", ".tgz")


def is_tarball(path: Path) -> bool:
    return path.name.endswith(TARBALL_SUFFIXES)


@contextlib.contextmanager
def opened(path: Path) -> Iterator[Path]:
    """The bundle's directory: ``path`` itself, or a temporary extraction of the tarball."""
    if path.is_dir():
        yield path
        return
    if not path.is_file() or not is_tarball(path):
        raise UserError(f"{path}: not a bundle (a .tar, .tar.gz or a directory)")
    tmp = Path(tempfile.mkdtemp(prefix="fate-pkg-bundle-"))
    try:
        extract(path, tmp / "b")
        yield tmp / "b"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bundle_root(directory: Path) -> Path:
    """The directory holding the layout: ``directory``, or its one ``fate-bundle-*`` child."""
    if (directory / SUMS).exists() or (directory / "rpms").is_dir():
        return directory
    children = [c for c in directory.iterdir() if not c.name.startswith(".")]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return directory

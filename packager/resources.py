"""The one place the build side finds its data: ``specs/``, ``bundles/`` and ``units/``.

The data folders stay at the top of the repository, as the user asked, and setuptools maps
them into the package (``packager._specs``, ``packager._bundles``,
``packager.onhost.units``; see ``pyproject.toml``). So a wheel carries them, and an
editable install finds the checkout's copies through the same import machinery: nothing
here walks up from ``__file__``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import packager._bundles
import packager._specs
import packager.onhost.units


def _package_dir(module: ModuleType) -> Path:
    """The directory of a data package, as the import system found it."""
    if not getattr(module, "__file__", None):
        raise RuntimeError(f"{module.__name__} has no directory on disk (installed as a zip?)")
    return Path(module.__file__).resolve().parent


def specs() -> Path:
    """``specs/``: release manifests, package specs, CentOS 7 facts, the demo spec."""
    return _package_dir(packager._specs)


def bundles() -> Path:
    """``bundles/``: bundle profiles and the files a bundle ships."""
    return _package_dir(packager._bundles)


def units() -> Path:
    """``units/``: the service catalogue and the unit templates (on-host data)."""
    return _package_dir(packager.onhost.units)


def el7() -> Path:
    """``specs/el7/``: what CentOS 7 has and accepts."""
    return specs() / "el7"


def read_list(path: Path) -> list[str]:
    """A data file with one item per line; ``#`` starts a comment."""
    items = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            items.append(line)
    return items

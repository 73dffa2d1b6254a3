"""Where the repository's data lives (specs/, units/, bundles/) relative to the package."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SPECS = REPO_ROOT / "specs"
EL7 = SPECS / "el7"
UNITS = REPO_ROOT / "units"
BUNDLES = REPO_ROOT / "bundles"


def read_list(path: Path) -> list[str]:
    """A data file with one item per line; ``#`` starts a comment."""
    items = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            items.append(line)
    return items

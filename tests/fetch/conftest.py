"""Fixtures for the fetch tests: a generated release served by a local mirror."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fetch.mirror import Mirror, MirrorServer, Served

#: name -> size of the generated artifacts (FATE's real file names, small bytes)
SIZES = {
    "jdk-8u192-linux-x64.tar.gz": 900_000,
    "mysql-8.0.13.tar.gz": 600_000,
    "fateboard-1.4.2.jar": 300_000,
    "eggroll-2.0.2.tar.gz": 120_000,
}
COMPONENT = {"jdk": "java", "mysql": "mysql", "fateboard": "fateboard", "eggroll": "eggroll"}


def make_bytes(name: str, size: int) -> bytes:
    return random.Random(name).randbytes(size)


@pytest.fixture(autouse=True)
def _no_outside_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback tests must not go through a proxy the developer's shell happens to set."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    served = {name: Served(make_bytes(name, size)) for name, size in SIZES.items()}
    with MirrorServer(Mirror(files=served)) as running:
        yield running


def write_manifest(path: Path, mirror: Mirror, *, pinned: bool = True, release: str = "gen-1.0",
                   names: list[str] | None = None) -> Path:
    """A manifest for the mirror's files; pins come from the bytes generated above."""
    lines = [f"# generated for a test\nrelease: {release}\nversion: '1.0'\nartifacts:"]
    for name in names or list(SIZES):
        data = make_bytes(name, SIZES[name])
        size = len(data) if pinned else "null"
        sha = hashlib.sha256(data).hexdigest() if pinned else "null"
        lines.append(
            f"  - name: {name}\n    url: {mirror.url}/{name}\n    size: {size}\n"
            f"    sha256: {sha}\n    component: {COMPONENT[name.split('-')[0]]}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path

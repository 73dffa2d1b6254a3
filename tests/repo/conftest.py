"""Fixtures: the el7-shaped test repositories, on disk and behind a loopback HTTP mirror."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from packager.fetch.cache import Cache
from packager.repo import Repo, load_repo
from tests.fetch.mirror import Mirror, MirrorServer, Served
from tests.repo.el7repo import build_repos, tree_files


@pytest.fixture(autouse=True)
def _no_outside_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback tests must not go through a proxy the developer's shell happens to set."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)


@pytest.fixture(scope="session")
def repo_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<root>/os`` and ``<root>/updates``, built once per test session (0.3 s)."""
    root = tmp_path_factory.mktemp("el7repos")
    build_repos(root)
    return root


@pytest.fixture(scope="session")
def file_repos(repo_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Repo]:
    cache = Cache(tmp_path_factory.mktemp("cache"))
    return [load_repo(f"file://{repo_tree}/os", cache),
            load_repo(f"file://{repo_tree}/updates", cache)]


@pytest.fixture
def mirror(repo_tree: Path) -> Iterator[Mirror]:
    """The repositories over real HTTP on 127.0.0.1 (fresh per test: tests corrupt files)."""
    served = {name: Served(data) for name, data in tree_files(repo_tree).items()}
    with MirrorServer(Mirror(files=served)) as running:
        yield running


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")

"""The OS half of ``fate-pkg fetch``: repositories → closure → RPMs in the cache.

Kept apart from the command so the build (and tests) can run the same steps, and so the
command module only parses options and prints.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import requests

from packager.errors import UserError
from packager.fetch.cache import Cache
from packager.fetch.fetcher import Outcome
from packager.repo.closure import Closure, UnresolvedDependency, load_base, resolve
from packager.repo.download import download_outcomes
from packager.repo.metadata import load_repo
from packager.repo.requirements import optional_packages, requirements_from_specs, spec_paths

#: CentOS 7.9.2009, the last CentOS 7, as archived on vault.centos.org.
DEFAULT_OS_REPOS = (
    "https://vault.centos.org/7.9.2009/os/x86_64/",
    "https://vault.centos.org/7.9.2009/updates/x86_64/",
)


def closure_path(cache: Cache) -> Path:
    """Where ``fetch`` leaves the resolved closure for the offline build."""
    return cache.root / "os" / "closure.json"


@dataclass
class OsResult:
    closure: Closure
    outcomes: list[Outcome]
    path: Path


def plan_os(
    cache: Cache,
    *,
    repos: Sequence[str] = DEFAULT_OS_REPOS,
    specs: Sequence[Path] | None = None,
    base_file: Path | None = None,
    progress: bool = True,
    session: requests.Session | None = None,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
    note: Callable[[str], None] = lambda msg: print(f"fate-pkg: {msg}", file=sys.stderr),
) -> Closure:
    """Read the specs and repositories and resolve; nothing but repo metadata is cached.

    Run before any download, so that an unresolvable requirement stops ``fetch`` before
    it spends an hour on artifacts the bundle could not use anyway.
    """
    paths = list(specs) if specs is not None else spec_paths()
    if not paths:
        raise UserError("no package specs to take OS requirements from "
                        "(specs/packages/*.yaml is empty; pass --os-spec FILE)")
    for path in paths:
        if not Path(path).is_file():
            raise UserError(f"--os-spec {path}: no such file")
    requirements = requirements_from_specs(paths)
    optional = optional_packages(paths)
    needed = [r for r in requirements if r.origin not in optional]
    base = load_base(base_file) if base_file is not None else load_base()
    own = session or requests.Session()
    loaded = [load_repo(url, cache, session=own, progress=progress, log=log) for url in repos]
    closure = resolve(needed, loaded, base)
    if len(needed) == len(requirements):
        return closure
    # fate-deploy's ansible is EPEL's: carried when a given repository has it, else the
    # control host brings its own Ansible (docs/fate-deploy.md).
    try:
        return resolve(requirements, loaded, base)
    except UnresolvedDependency as exc:
        note(f"note: the OS closure leaves out what {', '.join(sorted(optional))} need "
            f"({exc}); add an EPEL 7 repository (--os-repo URL, with the CentOS ones) to "
            "carry it in the bundle")
        return closure


def fetch_closure(
    closure: Closure,
    cache: Cache,
    *,
    jobs: int = 4,
    progress: bool = True,
    session_factory: Callable[[], requests.Session] = requests.Session,
) -> OsResult:
    """Save the closure for the build (``<cache>/os/closure.json``) and fetch its RPMs."""
    path = closure_path(cache)
    closure.save(path)
    outcomes = download_outcomes(closure, cache, jobs=jobs, progress=progress,
                                 session_factory=session_factory)
    return OsResult(closure, outcomes, path)

"""The OS side of the offline bundle: yum metadata, rpm version rules, dependency closure.

Build-side API (see each module for the why):

* ``load_repo(url, cache) -> Repo``: a yum repository over HTTP(S) or ``file://``.
* ``requirements_from_specs(paths) -> list[Requirement]``: what our packages need.
* ``resolve(requirements, repos, base) -> Closure``: the OS packages to bundle, with ``why``.
* ``download(closure, cache) -> list[Path]``: their verified RPMs in the artifact cache.
"""

from packager.repo.closure import (
    Closure,
    ClosurePackage,
    Requirement,
    UnresolvedDependency,
    load_base,
    resolve,
)
from packager.repo.download import OS_RELEASE, download, download_outcomes
from packager.repo.metadata import Repo, RepoError, RepoPackage, load_repo
from packager.repo.requirements import requirements_from_specs, spec_paths

__all__ = [
    "OS_RELEASE", "Closure", "ClosurePackage", "Repo", "RepoError", "RepoPackage",
    "Requirement", "UnresolvedDependency", "download", "download_outcomes", "load_base",
    "load_repo", "requirements_from_specs", "resolve", "spec_paths",
]

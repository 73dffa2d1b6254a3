"""Cross-check the resolver against a real depsolver: Debian's dnf on the same repositories.

dnf 4 is not yum 3.4.3, but for plain Requires/Provides/Obsoletes/file deps on x86_64 they
agree, and dnf is an independent implementation (libsolv). Two questions:

* an empty install root (``base=()``): dnf installs exactly our closure;
* a root that already has the base at its os-repo builds: what dnf installs or upgrades on
  top is exactly our closure (the glibc upgrade dragging glibc-common along included).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from packager.repo import Repo, resolve
from tests.repo.test_closure import BASE, FATE

QF = "%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%{ARCH}\\n"


def _dnf(root: Path, repo_tree: Path, *specs: str) -> None:
    if shutil.which("dnf") is None:
        pytest.fail("dnf is missing: install it (scripts/apt-packages.txt lists it)")
    cmd = ["dnf", "-y", "-q", f"--installroot={root}", "--releasever=7",
           "--setopt=reposdir=/dev/null", f"--setopt=cachedir={root}.dnfcache",
           "--setopt=install_weak_deps=False", "--disablerepo=*", "--nogpgcheck"]
    for name in ("os", "updates"):
        cmd += [f"--repofrompath={name},file://{repo_tree / name}", f"--enablerepo={name}"]
    done = subprocess.run([*cmd, "install", *specs], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def _installed(root: Path) -> set[str]:
    done = subprocess.run(["rpm", "--root", str(root), "-qa", "--qf", QF],
                          capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def _specs() -> list[str]:
    return [str(r.dep) for r in FATE]


def test_empty_root_matches_dnf(file_repos: list[Repo], repo_tree: Path,
                                tmp_path: Path) -> None:
    root = tmp_path / "root"
    _dnf(root, repo_tree, *_specs())
    ours = {p.nevra for p in resolve(FATE, file_repos, ()).packages}
    assert ours == _installed(root)


def test_on_top_of_base_matches_dnf(file_repos: list[Repo], repo_tree: Path,
                                    tmp_path: Path) -> None:
    root = tmp_path / "root"
    closure = resolve(FATE, file_repos, BASE)
    # the base as installed from the release media: the os repo's builds
    _dnf(root, repo_tree, "bash", "filesystem", "glibc-2.17-317.el7.x86_64",
         "openssl-1:1.0.2k-19.el7.x86_64")
    before = _installed(root)
    assert {"glibc-common-2.17-317.el7.x86_64", "openssl-libs-1:1.0.2k-19.el7.x86_64"} <= before
    assert {n.split("-")[0] for n in before} == {"bash", "filesystem", "glibc", "ncurses",
                                                 "openssl"}
    _dnf(root, repo_tree, *_specs())
    added = _installed(root) - before
    assert added == {p.nevra for p in closure.packages}

"""Fixtures of the end-to-end acceptance tests: the user's whole story on a real systemd.

``fate-pkg build --offline`` (once per session) -> RPMs + the base RPM -> a container booted
from the cached Debian root -> dnf (the yum stand-in) -> ``fate-configure`` -> ``systemctl``.
Root is required (nspawn, nsenter, network namespaces); CI is root. When a test of a module
fails, the journal and every FATE log of that module's containers are kept under
``$FATE_PKG_E2E_ARTIFACTS`` (default /var/tmp/fate-pkg-e2e/artifacts/<run>/).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .baserpm import build_base_rpm
from .container import Container
from .rootfs import BASE, ensure_rootfs
from .scenario import TIMINGS

REPO = Path(__file__).resolve().parents[2]
FATE_PKG = [sys.executable, "-c", "import sys; from packager.cli import main; sys.exit(main())"]
CACHE = BASE / "cache"
ARTIFACTS = Path(os.environ.get("FATE_PKG_E2E_ARTIFACTS",
                                BASE / "artifacts" / time.strftime("%Y%m%dT%H%M%S")))

_failed_modules: set[str] = set()
_kept: list[Path] = []


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="e2e needs root (systemd-nspawn, nsenter, netns); CI is root")
    for item in items:
        if "/e2e/" in str(item.fspath) and "centos7" not in item.name:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        _failed_modules.add(item.module.__name__)


def pytest_terminal_summary(terminalreporter):
    for line in TIMINGS:
        terminalreporter.write_line(f"e2e timing: {line}")
    for path in _kept:
        terminalreporter.write_line(f"e2e artifacts (journal, FATE logs): {path}")


#: fate-pkg as builds before the ordered restarts made their scriptlets (tests/support).
OLD_SCRIPTLETS_PKG = [sys.executable, "-m", "tests.support.old_scriptlets"]


def _fate_pkg(*args: str, timeout: float = 600, cmd: list[str] = FATE_PKG) -> str:
    proc = subprocess.run([*cmd, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"fate-pkg {' '.join(args)}: rc={proc.returncode}\n{proc.stdout}"
                           f"\n{proc.stderr}")
    return proc.stdout


def _build(out: Path, build_release: int, cmd: list[str] = FATE_PKG) -> Path:
    """The user's first step: ``fate-pkg build --offline --sample`` (vendored wheels for the
    target tools come from PyPI through ``fate-pkg fetch``, cached between runs)."""
    _fate_pkg("fetch", "--release", "vendor-py36", "--cache", str(CACHE))
    # -j 1: parallel build_rpm calls into one output dir race on its temp folder (a
    # finished RPM removes the folder while another is about to write in it); reported.
    _fate_pkg("build", "--offline", "--sample", "--cache", str(CACHE), "-o", str(out),
              "--compression", "gzip:6", "--build-release", str(build_release), "-j", "1",
              cmd=cmd)
    return out


@pytest.fixture(scope="session")
def rootfs() -> Path:
    return ensure_rootfs()


@pytest.fixture(scope="session")
def rpms(tmp_path_factory) -> Path:
    """Release 1 of every FATE RPM and the all-in-one bundle (fate-bundle-*.tar)."""
    return _build(tmp_path_factory.mktemp("dist1"), 1)


@pytest.fixture(scope="session")
def base_rpm(tmp_path_factory) -> Path:
    """The @core stand-in (baserpm.py), part of the container's "OS", not of our bundle."""
    return build_base_rpm(tmp_path_factory.mktemp("os"))


@pytest.fixture(scope="session")
def rpms2(tmp_path_factory) -> Path:
    """The same release rebuilt with ``--build-release 2`` (an update)."""
    return _build(tmp_path_factory.mktemp("dist2"), 2)


@pytest.fixture(scope="session")
def rpms_old(tmp_path_factory) -> Path:
    """Release 1 as a build before the ordered restarts made it: its ``%postun``
    try-restarts its own units (tests/support/old_scriptlets.py), the rest is today's."""
    return _build(tmp_path_factory.mktemp("dist-old"), 1, OLD_SCRIPTLETS_PKG)


@pytest.fixture(scope="module")
def boxes(request, rootfs, tmp_path_factory) -> Iterator[Callable[..., Container]]:
    """Factory of containers for one module; all are stopped at its end (artifacts first
    when one of the module's tests failed)."""
    made: list[Container] = []
    workdir = tmp_path_factory.mktemp("boxes")

    def make(name: str, root: Path | None = None, **kw) -> Container:
        """``root``: another cached tree to boot (the rollout's, with sshd)."""
        box = Container(f"{name}{os.getpid() % 10000}", root or rootfs, workdir, **kw)
        made.append(box)
        return box

    try:
        yield make
    finally:
        keep = request.module.__name__ in _failed_modules
        try:
            for box in made:
                if keep:
                    _kept.append(box.collect(ARTIFACTS / request.module.__name__))
        finally:
            # all at once: each stop is a clean poweroff that mostly waits (JVMs, MySQL)
            with ThreadPoolExecutor(max_workers=max(1, len(made))) as pool:
                list(pool.map(Container.stop, made))


@pytest.fixture(scope="module")
def drop(tmp_path_factory, rpms, base_rpm) -> Path:
    """A host directory the module's containers see read-only at /e2e: ``rpms/`` the
    release-1 RPMs of a party host (not fate-deploy, the control host's, which needs
    EPEL's ansible), ``bundle.tar`` the bundle, ``os/`` the base RPM; tests add more
    (``rpms2/``) while the containers run."""
    path = tmp_path_factory.mktemp("drop")
    (path / "rpms").mkdir()
    for rpm in rpms.glob("*.rpm"):
        if not rpm.name.startswith("fate-deploy-"):
            shutil.copy2(rpm, path / "rpms")
    (bundle,) = rpms.glob("fate-bundle-*.tar")
    shutil.copy2(bundle, path / "bundle.tar")
    (path / "os").mkdir()
    shutil.copy2(base_rpm, path / "os")
    return path

"""RPM scriptlets for units (rule 16), run as rpm runs them: ``sh -c BODY`` with ``$1``, in a
chroot whose ``systemctl`` records every call."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from packager.systemd_scriptlets import scriptlets

from .conftest import write_exe

UNITS = ["fate-flow.service", "fate-board.service"]
BUSYBOX = shutil.which("busybox")
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"


def test_bodies_parse_under_sh_and_bash():
    for body in scriptlets(UNITS).values():
        for shell in ("sh", "bash"):
            proc = subprocess.run([shell, "-n"], input=body, text=True, capture_output=True)
            assert proc.returncode == 0, (shell, proc.stderr, body)


@pytest.mark.parametrize("bad", [[], ["fate flow.service"], ["fate-flow"], ["x.service;rm"]])
def test_refuses_bad_unit_lists(bad):
    with pytest.raises(ValueError):
        scriptlets(bad)


@pytest.fixture
def chroot(tmp_path: Path):
    """A busybox root (the static binary from busybox-static) with a recording systemctl."""
    if os.geteuid() != 0:
        pytest.fail("chroot needs root (CI runs as root)")
    assert BUSYBOX, "busybox-static is listed in scripts/apt-packages.txt"
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, root / "bin/busybox")
    for applet in ("sh", "echo", "cat", "test", "[", "mkdir", "rm", "ls"):
        os.symlink("busybox", root / "bin" / applet)
    (root / "dev").mkdir()
    os.mknod(root / "dev/null", 0o666 | 0o020000, os.makedev(1, 3))
    (root / "tmp").mkdir()
    write_exe(root / "usr/bin/systemctl",
              '#!/bin/sh\necho "$*" >> /tmp/calls\necho noise; echo noise >&2\n'
              'exit "${SYSTEMCTL_RC:-0}"\n')
    return root


def run_scriptlet(root: Path, body: str, arg: int, systemd: bool, rc: int = 0):
    run_dir = root / "run/systemd/system"
    if systemd:
        run_dir.mkdir(parents=True, exist_ok=True)
    elif run_dir.exists():
        shutil.rmtree(root / "run")
    calls = root / "tmp/calls"
    calls.unlink(missing_ok=True)
    (root / "run").mkdir(exist_ok=True)
    proc = subprocess.run(
        [CHROOT, str(root), "/bin/sh", "-c", body, "scriptlet", str(arg)],
        capture_output=True, text=True, timeout=30,
        env={"PATH": "/usr/bin:/bin", "SYSTEMCTL_RC": str(rc)})
    made = calls.read_text().splitlines() if calls.exists() else []
    return proc, made


NAMES = " ".join(UNITS)


@pytest.mark.root
@pytest.mark.parametrize("kind,arg,expected", [
    ("post", 1, [f"preset {NAMES}"]),                                   # install
    ("post", 2, []),                                                     # upgrade
    ("preun", 0, [f"--no-reload disable {NAMES}", f"stop {NAMES}"]),     # erase
    ("preun", 1, []),                                                    # upgrade: never stop
    # upgrade: marks for %posttrans, no restart out of order
    ("postun", 1, ["daemon-reload"] + [f"-q is-active {u}" for u in UNITS]),
    ("postun", 0, ["daemon-reload"]),                                    # erase
])
def test_systemctl_calls_per_transaction(chroot, kind, arg, expected):
    body = scriptlets(UNITS)[kind]
    proc, calls = run_scriptlet(chroot, body, arg, systemd=True)
    assert proc.returncode == 0
    assert calls == expected
    assert proc.stdout == "" and proc.stderr == ""   # every call is quiet


@pytest.mark.root
@pytest.mark.parametrize("kind,arg", [("post", 1), ("preun", 0), ("postun", 0), ("postun", 1)])
def test_nothing_happens_without_a_running_systemd(chroot, kind, arg):
    proc, calls = run_scriptlet(chroot, scriptlets(UNITS)[kind], arg, systemd=False)
    assert proc.returncode == 0
    assert calls == []


@pytest.mark.root
@pytest.mark.parametrize("kind,arg", [("post", 1), ("preun", 0), ("postun", 1)])
def test_a_failing_systemctl_never_fails_the_transaction(chroot, kind, arg):
    proc, calls = run_scriptlet(chroot, scriptlets(UNITS)[kind], arg, systemd=True, rc=1)
    assert proc.returncode == 0
    assert calls  # it was called, and failed


#: Start order as the catalogue gives it (units/services.yaml stage), and what needs what.
ORDER = ["fate-mysql.service", "fate-clustermanager.service", "fate-flow.service",
         "fate-board.service"]
NEEDS = {"fate-mysql.service": ["fate-clustermanager.service", "fate-flow.service",
                                "fate-board.service"],
         "fate-clustermanager.service": ["fate-flow.service", "fate-board.service"],
         "fate-flow.service": ["fate-board.service"]}


@pytest.mark.root
def test_an_upgrade_restarts_once_per_service_in_start_order(chroot):
    """rpm runs %postun per package in transaction order (here fate-flow's before
    fate-mysql's, as yum did); the restarts still come in start order, once each, from the
    first %posttrans, and the second %posttrans finds nothing left to do."""
    packages = [["fate-flow.service", "fate-board.service"], ["fate-mysql.service"],
                ["fate-clustermanager.service"]]
    bodies = [scriptlets(units, True, ORDER, NEEDS) for units in packages]
    for body in bodies:
        proc, _ = run_scriptlet(chroot, body["postun"], 1, systemd=True)
        assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    proc, calls = run_scriptlet(chroot, bodies[0]["posttrans"], 0, systemd=True)
    assert proc.returncode == 0
    assert calls == [f"restart {u}" for u in ORDER]
    proc, calls = run_scriptlet(chroot, bodies[1]["posttrans"], 0, systemd=True)
    assert calls == []


@pytest.mark.root
def test_an_upgrade_of_mysql_alone_restarts_what_depends_on_it(chroot):
    body = scriptlets(["fate-mysql.service"], True, ORDER, NEEDS)
    run_scriptlet(chroot, body["postun"], 1, systemd=True)
    _, calls = run_scriptlet(chroot, body["posttrans"], 0, systemd=True)
    assert calls == [f"restart {u}" for u in ORDER]


@pytest.mark.root
def test_inactive_units_are_not_marked(chroot):
    body = scriptlets(["fate-flow.service"], True, ORDER, NEEDS)
    run_scriptlet(chroot, body["postun"], 1, systemd=True, rc=3)  # is-active: inactive
    _, calls = run_scriptlet(chroot, body["posttrans"], 0, systemd=True)
    assert calls == []


def test_no_posttrans_without_restart_and_units_must_be_in_the_order():
    assert "posttrans" not in scriptlets(["fate.target"], restart=False)
    with pytest.raises(ValueError):
        scriptlets(["fate-x.service"], True, ORDER, NEEDS)

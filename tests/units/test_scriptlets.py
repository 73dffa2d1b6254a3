"""RPM scriptlets for units (rule 16), run as rpm runs them: ``sh -c BODY`` with ``$1``, in a
chroot whose ``systemctl`` records every call."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from packager.systemd_scriptlets import scriptlets
from tests.support import old_scriptlets
from tests.support.units import write_exe

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
    for applet in ("sh", "echo", "cat", "test", "[", "mkdir", "rm", "ls", "printf"):
        os.symlink("busybox", root / "bin" / applet)
    (root / "dev").mkdir()
    os.mknod(root / "dev/null", 0o666 | 0o020000, os.makedev(1, 3))
    (root / "tmp").mkdir()
    write_exe(root / "usr/bin/systemctl",
              '#!/bin/sh\necho "$*" >> /tmp/calls\necho noise; echo noise >&2\n'
              'exit "${SYSTEMCTL_RC:-0}"\n')
    # the rpm database as a scriptlet queries it: $RPM_POSTUN is the installed %postun,
    # $RPM_POSTTRANS whether each installed instance has a %posttrans (1) or not (0)
    write_exe(root / "usr/bin/rpm",
              '#!/bin/sh\necho "rpm $*" >> /tmp/calls\ncase "$*" in\n'
              '*POSTTRANS*) printf "%s\\n" "$RPM_POSTTRANS" ;;\n'
              '*) printf "%s\\n" "$RPM_POSTUN" ;;\nesac\nexit "${RPM_RC:-0}"\n')
    return root


def run_scriptlet(root: Path, body: str, arg: int, systemd: bool, rc: int = 0,
                  postun: str = "", rpm_rc: int = 0, posttrans: str = ""):
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
        env={"PATH": "/usr/bin:/bin", "SYSTEMCTL_RC": str(rc), "RPM_POSTUN": postun,
             "RPM_RC": str(rpm_rc), "RPM_POSTTRANS": posttrans})
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


#: The installed package's %postun as a build before the marks made it, and as ours do.
OLD_POSTUN = old_scriptlets.scriptlets(["fate-mysql.service"])["postun"]
NEW_POSTUN = scriptlets(["fate-mysql.service"], True, ORDER, NEEDS)["postun"]
QUERY = "rpm -q --qf %{POSTUN}\\n fate-mysql"


def mysql_bodies() -> dict[str, str]:
    return scriptlets(["fate-mysql.service"], True, ORDER, NEEDS, "fate-mysql")


@pytest.mark.root
def test_an_upgrade_from_a_build_with_the_old_postun_stops_first_and_starts_in_order(chroot):
    """rpm 4.11 runs the new %pre before the old %postun; the old one try-restarts (it did
    fate-mysql after fate_flow). The new %pre stops the running units (last to start
    first), so that try-restart finds them stopped and %posttrans starts them in order."""
    proc, calls = run_scriptlet(chroot, mysql_bodies()["pre"], 2, systemd=True,
                                postun=OLD_POSTUN)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    assert calls == [QUERY, *(f"-q is-active {u}" for u in ORDER),
                     *(f"stop {u}" for u in reversed(ORDER))]
    _, calls = run_scriptlet(chroot, mysql_bodies()["posttrans"], 0, systemd=True)
    assert calls == [f"restart {u}" for u in ORDER]


@pytest.mark.root
@pytest.mark.parametrize("arg,postun,rpm_rc,expected", [
    (2, NEW_POSTUN, 0, [QUERY]),   # between two builds with marks: no needless stop
    (2, "(none)", 0, [QUERY]),     # no %postun at all
    (2, "", 1, [QUERY]),           # the query fails: as before the fix, nothing stopped
    (1, OLD_POSTUN, 0, []),        # first install: nothing to ask
])
def test_the_pre_stops_nothing_unless_the_installed_postun_is_the_old_kind(
        chroot, arg, postun, rpm_rc, expected):
    proc, calls = run_scriptlet(chroot, mysql_bodies()["pre"], arg, systemd=True,
                                postun=postun, rpm_rc=rpm_rc)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    assert calls == expected
    assert not (chroot / "run/fate-pkg/restart").exists()


@pytest.mark.root
def test_the_pre_does_nothing_without_a_running_systemd(chroot):
    _, calls = run_scriptlet(chroot, mysql_bodies()["pre"], 2, systemd=False,
                             postun=OLD_POSTUN)
    assert calls == []


def test_only_restarting_units_of_a_named_package_get_a_pre():
    assert "pre" not in scriptlets(["fate-mysql.service"], True, ORDER, NEEDS)
    assert "pre" not in scriptlets(["fate.target"], False, package="fate-common")
    with pytest.raises(ValueError):
        scriptlets(["fate-mysql.service"], True, ORDER, NEEDS, "fate mysql;rm")


POSTTRANS_QUERY = "rpm -q --qf %|POSTTRANS?{1}:{0}|\\n fate-mysql"


@pytest.mark.root
def test_a_downgrade_to_a_build_without_posttrans_restarts_in_the_postun(chroot):
    """``yum history undo`` back to a build before the marks: the incoming package has no
    %posttrans to restart the marked units, so our outgoing %postun does, in order."""
    body = mysql_bodies()["postun"]
    proc, calls = run_scriptlet(chroot, body, 1, systemd=True, posttrans="1\n0")
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    assert calls == ["daemon-reload", *(f"-q is-active {u}" for u in ORDER), POSTTRANS_QUERY,
                     *(f"restart {u}" for u in ORDER)]
    assert list((chroot / "run/fate-pkg/restart").iterdir()) == []  # no mark left behind


@pytest.mark.root
@pytest.mark.parametrize("posttrans,rpm_rc", [("1\n1", 0), ("", 1)])
def test_between_builds_with_marks_the_postun_leaves_the_restarts_to_posttrans(
        chroot, posttrans, rpm_rc):
    body = mysql_bodies()["postun"]
    _, calls = run_scriptlet(chroot, body, 1, systemd=True, posttrans=posttrans, rpm_rc=rpm_rc)
    assert calls == ["daemon-reload", *(f"-q is-active {u}" for u in ORDER), POSTTRANS_QUERY]
    _, calls = run_scriptlet(chroot, mysql_bodies()["posttrans"], 0, systemd=True)
    assert calls == [f"restart {u}" for u in ORDER]

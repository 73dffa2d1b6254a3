"""Restarting through systemctl / supervisorctl: order and arguments (recorded by stand-ins
on PATH, since this machine has no running systemd; enable/disable use the real systemctl
--root in test_apply)."""

import os
from pathlib import Path

import pytest

from packager.onhost.configure import supervisor, units
from packager.onhost.configure.errors import ApplyError
from packager.onhost.configure.paths import Root

RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$*" in
  "restart fate-board"*) exit {board_rc};;
  "is-active --quiet fate-rollsite.service") exit 3;;
esac
"""


@pytest.fixture
def recorder(tmp_path, monkeypatch):
    def install(board_rc: int = 0) -> Path:
        log = tmp_path / "calls.log"
        bindir = tmp_path / "bin"
        bindir.mkdir(exist_ok=True)
        for name in ("systemctl", "supervisorctl"):
            (bindir / name).write_text(RECORDER.format(log=log, board_rc=board_rc))
            (bindir / name).chmod(0o755)
        monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
        return log
    return install


def test_restart_in_given_order_on_a_live_systemd_host(recorder):
    log = recorder()
    said = []
    done = units.restart(Root("/"), ["fate-mysql", "fate-clustermanager", "fate-flow"], True,
                         said.append)
    assert done == ["fate-mysql", "fate-clustermanager", "fate-flow"]
    assert [c for c in log.read_text().splitlines() if " restart " in c] == [
        "systemctl restart fate-mysql.service", "systemctl restart fate-clustermanager.service",
        "systemctl restart fate-flow.service"]
    assert said == ["restarted fate-mysql", "restarted fate-clustermanager", "restarted fate-flow"]


def test_a_stopped_unit_is_not_started_by_a_restart(recorder):
    """fate-deploy configures every host before it starts anything in the catalogue's
    order across hosts: the default reconfigure restarts only the units that ran with the
    old files (``only``), so a stopped one is not started; --no-block only queues."""
    log = recorder()
    said = []
    done = units.restart(Root("/"), ["fate-rollsite", "fate-flow"], True, said.append,
                         only=["fate-flow"], block=False)
    assert done == ["fate-flow"]
    calls = log.read_text().splitlines()
    assert "systemctl restart fate-rollsite.service" not in calls
    assert "systemctl restart --no-block fate-flow.service" in calls
    assert said == ["restart queued: fate-flow"]


def test_no_restart_without_systemd_or_in_a_tree(recorder, tmp_path):
    log = recorder()
    said = []
    assert units.restart(Root("/"), ["fate-flow"], False, said.append) == []
    assert units.restart(Root(str(tmp_path)), ["fate-flow"], True, said.append) == []
    assert not log.exists()
    assert said == ["not restarting fate-flow (no running systemd here)"] * 2


def test_failed_restart_is_an_apply_error(recorder):
    recorder(board_rc=1)
    with pytest.raises(ApplyError, match="systemctl restart fate-board failed"):
        units.restart(Root("/"), ["fate-flow", "fate-board"], True, lambda _: None)


def test_supervisor_update_then_restart_changed_programs(recorder):
    log = recorder()
    said = []
    supervisor.restart(Root("/"), ["fate-flow", "fate-nodemanager"], said.append)
    conf = "/data/projects/common/supervisord/supervisord.conf"
    assert log.read_text().splitlines() == [
        f"supervisorctl -c {conf} update",
        f"supervisorctl -c {conf} restart fate-nodemanager fate-fateflow"]
    assert said == ["restarted fate-nodemanager fate-fateflow"]


def test_queued_restarts_do_not_wait(recorder):
    """fate-deploy's mode: the restart is queued (--no-block), the host does not wait for
    dependencies on hosts configured after it."""
    log = recorder()
    said = []
    assert units.restart(Root("/"), ["fate-flow"], True, said.append, block=False) == ["fate-flow"]
    assert "systemctl restart --no-block fate-flow.service" in log.read_text().splitlines()
    assert said == ["restart queued: fate-flow"]

"""Every command line's shared main (packager/onhost/command.py): a reader that goes away
early (``fate-configure --diff | head``, ``fate-pkg ... --json | head``) ends the command
quietly with 141, as it ends ``yes | head``; no traceback, no "Exception ignored"."""

from __future__ import annotations

import shutil
import signal
import sys

import pytest

from tests.support.configure import DATA, make_root
from tests.support.units import into_closed_pipe

SIGPIPE_EXIT = 141
#: One of each main: fate-configure, fate-ctl, the build side's fate-pkg (UNIT and ROOT are
#: filled in per test). ``--help`` is not among them: argparse prints it on its own terms.
COMMANDS = {
    "fate-configure example": ["packager.onhost.configure.cli", "example"],
    "fate-configure schema --json": ["packager.onhost.configure.cli", "schema", "--json"],
    "fate-ctl status --json": ["packager.onhost.ctl.cli", "--root", "ROOT", "--manager", "none",
                               "status", "--json"],
    "fate-pkg units lint --json": ["packager.cli", "units", "lint", "--json", "UNIT"],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_closed_pipe_ends_the_command_quietly(name, tmp_path):
    unit = tmp_path / "fate-x.service"
    unit.write_text("[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n")
    fill = {"UNIT": str(unit), "ROOT": str(tmp_path)}
    proc = into_closed_pipe([sys.executable, "-m", *(fill.get(a, a) for a in COMMANDS[name])])
    assert (proc.returncode, proc.stderr) == (SIGPIPE_EXIT, ""), proc.stderr


def test_diff_into_a_closed_pipe_stops_quietly_and_changes_nothing(tmp_path):
    """The report of the issue: ``fate-configure --check --diff`` of a party on a new host
    (every file new: a long diff) whose reader has gone."""
    root = make_root(tmp_path / "root")
    party = tmp_path / "party.yaml"
    shutil.copy(DATA / "guest-3hosts.yaml", party)
    party.chmod(0o600)
    proc = into_closed_pipe([sys.executable, "-m", "packager.onhost.configure.cli", str(party),
                             "--root", str(root), "--host", "10.0.1.2", "--check", "--diff"])
    assert (proc.returncode, proc.stderr) == (SIGPIPE_EXIT, ""), proc.stderr
    assert not (root / "etc/fate").exists()


def test_logs_follow_hands_a_closed_pipe_to_tail_as_a_shell_would(tmp_path):
    """``fate-ctl logs fate-flow -f | head`` execs ``tail -F``: it inherited Python's
    ignored SIGPIPE and said "tail: write error: Broken pipe"; now it ends as in a shell."""
    (tmp_path / "etc/fate/env").mkdir(parents=True)
    (tmp_path / "etc/fate/env/fate-flow.env").write_text("")
    logs = tmp_path / "data/logs/fate/fate_flow"
    logs.mkdir(parents=True)
    (logs / "fate_flow_stat.log").write_text("".join(f"line {i}\n" for i in range(50)))
    proc = into_closed_pipe([sys.executable, "-m", "packager.onhost.ctl.cli", "--root",
                             str(tmp_path), "--manager", "none", "logs", "fate-flow", "-f"])
    assert (proc.returncode, proc.stderr) == (-signal.SIGPIPE, ""), proc.stderr

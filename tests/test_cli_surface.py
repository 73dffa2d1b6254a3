"""Every command of every tool takes --version and --json (README: "every command has
--json"), wherever it sits in the command tree."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from packager import __version__, cli
from packager.onhost import waitport
from packager.onhost.configure import cli as configure_cli
from packager.onhost.ctl import cli as ctl_cli

REPO = Path(__file__).resolve().parents[1]


def leaves(parser: argparse.ArgumentParser, name: str):
    """(command line, parser) of every command that does something (no further subcommand)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield name, parser
    for action in subs:
        for word, child in action.choices.items():
            yield from leaves(child, f"{name} {word}")


COMMANDS = [*leaves(cli.build_parser(), "fate-pkg"),
            *leaves(configure_cli.build_parser(), "fate-configure"),
            *leaves(ctl_cli.build_parser(), "fate-ctl"),
            *leaves(waitport.build_parser(), "fate-waitport")]


def test_the_tree_is_complete():
    names = {name for name, _ in COMMANDS}
    assert {"fate-pkg units render", "fate-pkg units lint", "fate-pkg verify",
            "fate-configure check", "fate-configure import-ansible", "fate-ctl doctor",
            "fate-waitport"} <= names


@pytest.mark.parametrize("name,parser", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_json_and_version(name, parser):
    options = {o for action in parser._actions for o in action.option_strings}
    assert {"--json", "--version"} <= options, name


@pytest.mark.parametrize("argv", [["units", "lint", "--version"], ["check", "--version"],
                                  ["--version"]])
def test_fate_pkg_version_anywhere(argv):
    run = subprocess.run([sys.executable, "-m", "packager.cli", *argv], cwd=REPO,
                         capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (0, f"fate-pkg {__version__}\n")

"""``fate-pkg``: the build-side command line.

Each subcommand lives in ``packager/commands/<name>.py`` and exposes
``register(subparsers)``; adding a command is adding a module and one entry below.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType
from typing import Sequence

from packager import __version__
from packager.onhost import command

#: Subcommands (each ``packager/commands/<name>.py``), in the order ``--help`` lists them.
NAMES = ("fetch", "rpm", "inspect", "units", "build", "check", "verify")


def _module(name: str) -> ModuleType:
    """A subcommand's module, imported only when it is needed: ``fate-pkg fetch`` then
    does not load the build, the lint and the bundle (half a second of each start)."""
    if name == "fetch":
        from packager.commands import fetch as module
    elif name == "rpm":
        from packager.commands import rpm as module
    elif name == "inspect":
        from packager.commands import inspect as module
    elif name == "units":
        from packager.commands import units as module
    elif name == "build":
        from packager.commands import build as module
    elif name == "check":
        from packager.commands import check as module
    else:
        from packager.commands import verify as module
    return module

EPILOG = """\
examples:
  fate-pkg fetch                                  FATE 1.4.5 into the verified cache
  fate-pkg fetch --os                             ... and the CentOS 7 packages it needs
  fate-pkg build --offline                        RPMs (+ bundle) with no network at all
  fate-pkg build --offline --sample               the built-in miniature release, nothing fetched
  fate-pkg check dist/*.rpm                       the CentOS 7 lint on finished RPMs
  fate-pkg rpm specs/demo/hello.yaml -o dist/     one RPM from one YAML file
  fate-pkg inspect dist/fate-flow-1.4.5-1.noarch.rpm
"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; ``only`` (a subcommand's name) registers that subcommand
    alone, which parses its own arguments exactly as the whole parser would."""
    parser = argparse.ArgumentParser(
        prog="fate-pkg",
        description="Build CentOS 7 RPMs and an offline bundle from a FATE release.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fate-pkg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only in NAMES else NAMES:
        _module(name).register(sub)
    _version_everywhere(parser)
    return parser


def _version_everywhere(parser: argparse.ArgumentParser) -> None:
    """``--version`` on every subcommand too (``fate-pkg check --version``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.add_argument("--version", action="version",
                                   version=f"fate-pkg {__version__}")
                _version_everywhere(child)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    return command.main("fate-pkg", build_parser(argv[0] if argv else None), argv,
                        lambda args: args.func(args),
                        "nothing half-written was left in the output")


if __name__ == "__main__":
    sys.exit(main())

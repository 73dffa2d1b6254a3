"""``fate-pkg``: the build-side command line.

Each subcommand lives in ``packager/commands/<name>.py`` and exposes
``register(subparsers)``; adding a command is adding a module and one entry below.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from packager import __version__
from packager.commands import build, check, fetch, inspect, rpm, units, verify
from packager.onhost import command

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = (fetch, rpm, inspect, units, build, check, verify)

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fate-pkg",
        description="Build CentOS 7 RPMs and an offline bundle from a FATE release.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fate-pkg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return command.main("fate-pkg", build_parser(), argv, lambda args: args.func(args),
                        "nothing half-written was left in the output")


if __name__ == "__main__":
    sys.exit(main())

"""``fate-ctl`` command line: status | logs SERVICE | toy | doctor."""

import argparse
import os
import subprocess
import sys
from typing import Optional, Sequence, Tuple

from packager.onhost import catalogue, command
from packager.onhost.ctl import doctor, status, toy
from packager.onhost.ctl.host import Host
from packager.onhost.ctl.logscan import log_files, tail_lines

EPILOG = """\
examples:
  fate-ctl status                  state, ports and last error of this host's services
  fate-ctl status --json           the same for scripts
  fate-ctl logs fate-flow -n 50    the newest lines of fate_flow's log files
  fate-ctl logs rollsite --journal stdout/stderr from the journal
  fate-ctl toy 9999 10000          run the toy example as guest 9999 with host 10000
  fate-ctl doctor                  pre-flight checks + status + config drift
"""


def _account(text: str) -> Tuple[str, str]:
    user, sep, group = text.partition(":")
    if not (user and sep and group):
        raise argparse.ArgumentTypeError(f"expected USER:GROUP, got {text!r}")
    return user, group


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fate-ctl", description="Operate the FATE services of this host.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="/", help="inspect another root tree (default /)")
    parser.add_argument("--env-dir", default="/etc/fate/env",
                        help="env files written by fate-configure (default /etc/fate/env)")
    parser.add_argument("--fate-home", default="/data/projects/fate")
    parser.add_argument("--manager", choices=("auto", "systemd", "supervisor", "none"),
                        default="auto", help="process manager to ask (default: detect)")
    parser.add_argument("--account", type=_account, default=("app", "apps"), metavar="USER:GROUP",
                        help="service account (default app:apps)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("status", help="state, ports and last error of each service here")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("logs", help="show a service's log files (or its journal)")
    p.add_argument("service", help="fate-flow, rollsite, fate-fateboard, ... any spelling")
    p.add_argument("-n", "--lines", type=int, default=40)
    p.add_argument("--files", type=int, default=2, help="how many of the newest files")
    p.add_argument("-f", "--follow", action="store_true", help="tail -F the files")
    p.add_argument("--journal", action="store_true", help="journalctl -u UNIT instead")

    p = sub.add_parser("toy", help="run the toy example and say what failed")
    p.add_argument("guest", nargs="?", help="guest party id (default: this party)")
    p.add_argument("host", nargs="?", help="host party id (default: the guest: one-sided)")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--force", action="store_true", help="run even if a port is down")

    sub.add_parser("doctor", help="pre-flight checks, status and config drift")
    return parser


def _logs(host: Host, args: argparse.Namespace) -> int:
    svc = catalogue.find(args.service, host.services)
    if args.journal:
        argv = ["journalctl", "-u", svc.unit_file, "-n", str(args.lines), "--no-pager"]
        return subprocess.call(argv + (["-f"] if args.follow else []))
    files = log_files(svc, host.path)[: max(1, args.files)]
    if not files:
        print(f"fate-ctl: no log files for {svc.unit} yet (looked for {' '.join(svc.logs)})",
              file=sys.stderr)
        return 1
    if args.follow:
        os.execvp("tail", ["tail", "-n", str(args.lines), "-F"] + files)
    for index, path in enumerate(files):
        if index:
            print()
        print(f"==> {path} <==")
        for line in tail_lines(path, args.lines):
            print(line)
    return 0


def run(args: argparse.Namespace) -> int:
    host = Host(root=args.root, env_dir=args.env_dir, fate_home=args.fate_home,
                manager=args.manager)
    if args.command == "status":
        return status.run(host, args.json)
    if args.command == "logs":
        return _logs(host, args)
    if args.command == "toy":
        return toy.run(host, args.guest, args.host, args.timeout, args.force)
    return doctor.run(host, args.account)


def main(argv: Optional[Sequence[str]] = None) -> int:
    return command.main("fate-ctl", build_parser(), argv, run, "nothing was changed")


if __name__ == "__main__":
    sys.exit(main())

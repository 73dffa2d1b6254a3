"""``fate-ctl`` command line: status | logs SERVICE | toy | doctor | backup | restore | certs.

The options of the command as a whole (``--root``, ``--manager``, ``--json``, ...) are
accepted before or after the subcommand: ``fate-ctl status --root /mnt`` works as
``fate-ctl --root /mnt status`` does.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from packager.onhost import __version__, catalogue, command
from packager.onhost.ctl import backup, certs, doctor, restore, status, toy
from packager.onhost.ctl.host import Host
from packager.onhost.ctl.logscan import log_files, tail_lines

EPILOG = """\
examples:
  fate-ctl status                   state, ports and last error of this host's services
  fate-ctl status --json            the same for scripts
  fate-ctl logs fate-flow -n 50     the newest lines of fate_flow's log files
  fate-ctl logs rollsite --journal  stdout/stderr from the journal
  fate-ctl toy 9999 10000           run the toy example as guest 9999 with host 10000
  fate-ctl doctor                   pre-flight checks + status + config drift
  fate-ctl doctor --json            the same checks as one JSON document
  fate-ctl backup                   archive configs, secrets and MySQL into
                                    /data/projects/data/fate/backups/ (0600)
  fate-ctl backup --data -o /root/party.tar.gz    the same, with the data directories
  fate-ctl restore --check /root/party.tar.gz     verify an archive against this host only
  fate-ctl restore /root/party.tar.gz             bring this host back from the archive
  fate-ctl certs init               party CA + rollsite server/client certs (openssl)
  fate-ctl certs export-ca -o guest-9999-ca.pem   the CA certificate to give the peer
  fate-ctl certs import-ca host-10000-ca.pem      trust the peer party's CA
  fate-ctl certs enable /root/party.yaml          secure flags on; then fate-configure it
  fate-ctl certs show               certificates and their expiry
"""


def _account(text: str) -> Tuple[str, str]:
    user, sep, group = text.partition(":")
    if not (user and sep and group):
        raise argparse.ArgumentTypeError(f"expected USER:GROUP, got {text!r}")
    return user, group


def _shared(parser: argparse.ArgumentParser, top: bool) -> None:
    """The options every subcommand takes; on a subcommand they default to "not given"
    so that a value given before the subcommand is kept."""
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    parser.add_argument("--root", default=default("/"),
                        help="inspect another root tree (default /)")
    parser.add_argument("--env-dir", default=default("/etc/fate/env"),
                        help="env files written by fate-configure (default /etc/fate/env)")
    parser.add_argument("--fate-home", default=default("/data/projects/fate"))
    parser.add_argument("--manager", choices=("auto", "systemd", "supervisor", "none"),
                        default=default("auto"), help="process manager to ask (default: detect)")
    parser.add_argument("--account", type=_account, default=default(("app", "apps")),
                        metavar="USER:GROUP", help="service account (default app:apps)")
    parser.add_argument("--json", action="store_true", default=default(False),
                        help="print the result as one JSON document")
    parser.add_argument("--version", action="version", version=f"fate-ctl {__version__}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fate-ctl", description="Operate the FATE services of this host.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _shared(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("status", help="state, ports and last error of each service here")
    _shared(p, top=False)

    p = sub.add_parser("logs", help="show a service's log files (or its journal)")
    _shared(p, top=False)
    p.add_argument("service", help="fate-flow, rollsite, fate-fateboard, ... any spelling")
    p.add_argument("-n", "--lines", type=int, default=40)
    p.add_argument("--files", type=int, default=2, help="how many of the newest files")
    p.add_argument("-f", "--follow", action="store_true", help="tail -F the files")
    p.add_argument("--journal", action="store_true", help="journalctl -u UNIT instead")

    p = sub.add_parser("toy", help="run the toy example and say what failed")
    _shared(p, top=False)
    p.add_argument("guest", nargs="?", help="guest party id (default: this party)")
    p.add_argument("host", nargs="?", help="host party id (default: the guest: one-sided)")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--force", action="store_true", help="run even if a port is down")

    p = sub.add_parser("doctor", help="pre-flight checks, status and config drift")
    _shared(p, top=False)

    p = sub.add_parser("backup", help="one 0600 archive: configs, secrets, MySQL dump")
    _shared(p, top=False)
    p.add_argument("-o", "--output", metavar="FILE",
                   help=f"archive to write (default {backup.BACKUP_DIR}/fate-backup-...)")
    p.add_argument("--data", action="store_true", help="also the data directories")

    p = sub.add_parser("restore", help="bring this host back from a backup archive")
    _shared(p, top=False)
    p.add_argument("archive", metavar="FILE")
    p.add_argument("--check", action="store_true",
                   help="verify the archive and that it fits this host; change nothing")
    p.add_argument("--no-start", action="store_true",
                   help="do not start fate.target afterwards")

    p = sub.add_parser("certs", help="the party's own rollsite TLS (CA, certificates)")
    _shared(p, top=False)
    csub = p.add_subparsers(dest="certs_command", metavar="ACTION")
    c = csub.add_parser("init", help="make (or import) the party CA, then rollsite's "
                        "server and client certificates")
    _shared(c, top=False)
    c.add_argument("--days", type=int, default=certs.DEFAULT_DAYS,
                   help=f"validity (default {certs.DEFAULT_DAYS})")
    c.add_argument("--ca-cert", metavar="PEM", help="use this CA (with --ca-key) instead of "
                   "making one")
    c.add_argument("--ca-key", metavar="PEM")
    c = csub.add_parser("export-ca", help="write this party's CA certificate for the peer")
    _shared(c, top=False)
    c.add_argument("-o", "--output", required=True, metavar="FILE")
    c = csub.add_parser("import-ca", help="trust a peer party's CA certificate")
    _shared(c, top=False)
    c.add_argument("files", nargs="+", metavar="PEM")
    c = csub.add_parser("enable", help="turn on the secure flags in a party YAML")
    _shared(c, top=False)
    c.add_argument("party", metavar="PARTY_YAML")
    c.add_argument("--peer-port", type=int, default=9371,
                   help="the peers' secure port (default 9371)")
    c = csub.add_parser("show", help="certificates of this host and their expiry")
    _shared(c, top=False)
    return parser


def _certs(host: Host, args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    action = args.certs_command
    if action == "init":
        if bool(args.ca_cert) != bool(args.ca_key):
            raise certs.CertError("--ca-cert and --ca-key go together")
        imported = (args.ca_cert, args.ca_key) if args.ca_cert else None
        written = certs.init(host, args.account, args.days, imported)
        out(f"certs: {len(written)} files; next: export-ca to the peer, import-ca its CA, "
              "then 'fate-ctl certs enable PARTY_YAML' and fate-configure it")
        return 0
    if action == "export-ca":
        try:
            out("certs: wrote " + certs.export_ca(host, args.output))
        except FileExistsError:
            raise certs.CertError(f"{args.output} exists; choose another -o") from None
        return 0
    if action == "import-ca":
        for path in certs.import_ca(host, args.account, args.files):
            out("certs: wrote " + path)
        return 0
    if action == "enable":
        changes = certs.enable(args.party, args.peer_port)
        for line in changes:
            out(f"certs: {args.party}: {line}")
        out("certs: {}; now run: fate-configure {}".format(
            f"{len(changes)} change(s), the old file is {args.party}.bak" if changes
            else "already enabled", args.party))
        return 0
    if action == "show":
        rows = certs.expiry(host)
        if not rows:
            out("certs: no rollsite certificates on this host")
            return 1
        for level, path, message in rows:
            out(f"{level:<4} {path}: {message}")
        return 1 if any(level == "FAIL" for level, _, _ in rows) else 0
    raise certs.CertError("certs needs an action: init, export-ca, import-ca, enable, show")


def _backup(host: Host, args: argparse.Namespace) -> int:
    say = (lambda _line: None) if args.json else print
    result = backup.run(host, args.output, args.data, say)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print("backup: wrote {path} ({members} members, {bytes} bytes, 0600)".format(**result))
    return 0


def _restore(host: Host, args: argparse.Namespace) -> int:
    say = (lambda _line: None) if args.json else print
    result = restore.run(host, args.archive, args.account, not args.no_start, args.check,
                         say)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    elif not args.check:
        print("\n".join(restore.summary(result)))
    return 0


def _logs(host: Host, args: argparse.Namespace) -> int:
    svc = catalogue.find(args.service, host.services)
    if args.json and (args.journal or args.follow):
        print("fate-ctl: error: --json prints the log files' last lines; it cannot follow "
              "them or read the journal", file=sys.stderr)
        return 2
    if args.journal:
        argv = ["journalctl", "-u", svc.unit_file, "-n", str(args.lines), "--no-pager"]
        return subprocess.call(argv + (["-f"] if args.follow else []))
    files = log_files(svc, host.path)[: max(1, args.files)]
    if not files:
        print(f"fate-ctl: no log files for {svc.unit} yet (looked for {' '.join(svc.logs)})",
              file=sys.stderr)
        return 1
    if args.follow:
        # Python ignores SIGPIPE and an exec'd program inherits that: tail would report a
        # closed reader (`| head`) as "write error"; with the default it ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.execvp("tail", ["tail", "-n", str(args.lines), "-F"] + files)
    if args.json:
        _emit({"service": svc.unit, "files": [{"path": path, "lines": tail_lines(path, args.lines)}
                                              for path in files]})
        return 0
    for index, path in enumerate(files):
        if index:
            print()
        print(f"==> {path} <==")
        for line in tail_lines(path, args.lines):
            print(line)
    return 0


def _emit(data: Dict[str, Any]) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _lines_as_json(run_it: Callable[[Callable[[str], None]], int], key: str) -> int:
    """Run a command that prints lines, and print them as ``{key: [...], ok, exit_code}``."""
    lines: List[str] = []
    rc = run_it(lines.append)
    _emit({key: lines, "ok": rc == 0, "exit_code": rc})
    return rc


def _doctor(host: Host, args: argparse.Namespace) -> int:
    if not args.json:
        return doctor.run(host, args.account)
    lines: List[str] = []
    rc = doctor.run(host, args.account, lines.append)
    checks = [{"level": line[:4].strip(), "message": line[5:]} for line in lines[:-1]]
    _emit({"checks": checks, "summary": lines[-1], "ok": rc == 0, "exit_code": rc,
           "failed": sum(1 for c in checks if c["level"] == "FAIL")})
    return rc


def run(args: argparse.Namespace) -> int:
    host = Host(root=args.root, env_dir=args.env_dir, fate_home=args.fate_home,
                manager=args.manager)
    if args.command == "status":
        return status.run(host, args.json)
    if args.command == "logs":
        return _logs(host, args)
    if args.command == "toy":
        def toy_run(out: Callable[[str], None] = print) -> int:
            return toy.run(host, args.guest, args.host, args.timeout, args.force, out)
        return _lines_as_json(toy_run, "lines") if args.json else toy_run()
    if args.command == "backup":
        return _backup(host, args)
    if args.command == "restore":
        return _restore(host, args)
    if args.command == "certs":
        if args.json:
            return _lines_as_json(lambda out: _certs(host, args, out), "lines")
        return _certs(host, args)
    return _doctor(host, args)


def main(argv: Optional[Sequence[str]] = None) -> int:
    return command.main("fate-ctl", build_parser(), argv, run, "see fate-ctl status")


if __name__ == "__main__":
    sys.exit(main())

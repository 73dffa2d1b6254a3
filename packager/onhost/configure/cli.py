"""``fate-configure``: one party YAML -> every config file, MySQL state and unit of a host.

    fate-configure party.yaml                  check, then apply on this host
    fate-configure party.yaml --check --diff   show what would change, change nothing
    fate-configure check party.yaml            validation + pre-flight only
    fate-configure import-ansible var_files/prod/fate_guest [base_init fate_init]
    fate-configure schema | example            JSON Schema / party.yaml.example

Exit codes: 0 done (or nothing to do), 2 bad input (nothing changed), 1 a pre-flight
check or an apply step failed.
"""

import argparse
import os
import sys
from typing import Optional, Sequence, Tuple

from packager.onhost import command

from . import example, facts, pipeline
from .ansible_import import import_ansible
from .errors import CheckFailed, ConfigError
from .paths import Root
from .schema import json_schema

PROG = "fate-configure"
SUBCOMMANDS = ("apply", "check", "import-ansible", "schema", "example")


def _say(line: str) -> None:
    print(f"{PROG}: {line}", flush=True)


def _warn(line: str) -> None:
    print(f"{PROG}: warning: {line}", file=sys.stderr, flush=True)


def _account(text: str) -> Tuple[str, str]:
    user, sep, group = text.partition(":")
    if not user or not sep or not group:
        raise argparse.ArgumentTypeError("expected USER:GROUP, e.g. app:apps")
    return user, group


def _common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("party", help="the party YAML (see `fate-configure example`)")
    sub.add_argument("--host", metavar="IP",
                     help="act as the party's host with this address (default: match this "
                          "host's addresses)")
    sub.add_argument("--root", metavar="DIR", default="/",
                     help="prefix every absolute path with DIR (image builds, tests)")
    sub.add_argument("--init", choices=("systemd", "supervisor"), default="systemd",
                     help="process manager of this host (default systemd)")
    sub.add_argument("--account", type=_account, default=("app", "apps"), metavar="USER:GROUP",
                     help="service account owning FATE's files (default app:apps, the one "
                          "fate-common creates)")


def build_parser() -> argparse.ArgumentParser:
    summary = __doc__.split("\n\n")[0].replace("``", "")
    parser = argparse.ArgumentParser(prog=PROG, description=summary,
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    subs = parser.add_subparsers(dest="command")
    apply = subs.add_parser("apply", help="validate, plan and apply (the default command)")
    _common(apply)
    apply.add_argument("--check", action="store_true",
                       help="dry run: report what would change and change nothing")
    apply.add_argument("--diff", action="store_true",
                       help="with --check (or alone): unified diff per file, secrets masked")
    apply.add_argument("--restart", action="store_true",
                       help="restart the services whose rendered files changed")
    check = subs.add_parser("check", help="validation and pre-flight checks only")
    _common(check)
    imp = subs.add_parser("import-ansible", help="convert ansible-nfate var files to a party YAML")
    imp.add_argument("var_file", help="var_files/prod/fate_guest, fate_host or fate_exchange")
    imp.add_argument("extra", nargs="*", help="base_init and/or fate_init")
    imp.add_argument("-o", "--output", help="write here instead of stdout (refuses to overwrite)")
    subs.add_parser("schema", help="print the party JSON Schema")
    subs.add_parser("example", help="print party.yaml.example")
    return parser


def run(args: argparse.Namespace) -> int:
    if args.command == "schema":
        sys.stdout.write(json_schema())
        return 0
    if args.command == "example":
        sys.stdout.write(example.render_example())
        return 0
    if args.command == "import-ansible":
        text, notes = import_ansible(args.var_file, args.extra)
        for note in notes:
            _warn(note)
        if args.output:
            try:
                with open(args.output, "x", encoding="utf-8") as handle:
                    handle.write(text)
            except FileExistsError:
                raise ConfigError(f"{args.output}: exists; choose another -o") from None
            _say("wrote " + args.output)
        else:
            sys.stdout.write(text)
        return 0

    root = Root(args.root)
    host_facts = facts.gather()
    if not root.is_live:
        host_facts = host_facts._replace(systemd=False)
    prep = pipeline.prepare(args.party, root, host_facts, args.host, args.init, args.account)
    plan = prep.plan
    if pipeline.readable_by_others(args.party):
        _warn(f"{args.party} is readable by other users and may hold passwords; chmod 600 it")
    _say("{} on {}: {}".format(plan.label, plan.host, ", ".join(plan.services)))
    for finding in prep.findings:
        if finding.level == "warning":
            _warn(finding.message)
    errors = [f.message for f in prep.findings if f.level == "error"]
    if errors:
        raise CheckFailed("\n".join("pre-flight: " + e for e in errors))
    if args.command == "check":
        _say("check passed")
        return 0
    if args.check:
        count = pipeline.dry_run(root, prep, args.diff, _say if not args.diff else print, _say)
        _say(f"dry run: {count} change(s) would be made; nothing was changed"
             if count else "dry run: nothing would change")
        return 0
    if os.geteuid() != 0:
        raise ConfigError("must run as root: it writes /etc/fate and FATE's config files and "
                          "gives them to the service account (--check works without)")
    # Valid input and a clean pre-flight: take the lock (nothing was written before it) and
    # plan again under it, so a run that waited for another one plans from what that left.
    with pipeline.exclusive(root):
        prep = pipeline.prepare(args.party, root, host_facts, args.host, args.init,
                                args.account)
        if args.diff:
            pipeline.dry_run(root, prep, True, print, _say)
        count = pipeline.apply(root, prep, host_facts, args.restart, _say)
    _say(f"{count} change(s) made" if count else "nothing changed: already configured")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in SUBCOMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "apply")
    return command.main(PROG, build_parser(), argv, run,
                        "files written so far are complete (atomic), re-run to converge")


if __name__ == "__main__":
    sys.exit(main())

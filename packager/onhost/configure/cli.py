"""``fate-configure``: one party YAML -> every config file, MySQL state and unit of a host.

examples:
  fate-configure import-ansible fate_guest base_init fate_init -o party.yaml
                                              the seed's var files -> one party YAML
  fate-configure check party.yaml             the whole party's validation, then this
                                              host's pre-flight (when it is one of them)
  fate-configure check party.yaml --host 192.168.0.2 --json   on any machine, for scripts
  fate-configure --check --diff party.yaml    show what would change here, change nothing
  fate-configure party.yaml                   check, then apply on this host
  fate-configure schema > party.schema.json   JSON Schema for editors
  fate-configure example                      party.yaml.example

Exit codes: 0 done (or nothing to do), 2 bad input (one line per problem, nothing
changed), 1 a pre-flight check or an apply step failed.
"""

import argparse
import json
import os
import re
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from packager.onhost import __version__, command

from . import example, facts, pipeline
from .ansible_import import import_ansible
from .errors import CheckFailed, ConfigError
from .paths import Root
from .schema import json_schema

PROG = "fate-configure"
SUBCOMMANDS = ("apply", "check", "import-ansible", "schema", "example")
#: options that take a value, so that the command word can be found among the arguments
_VALUED = ("--host", "--root", "--init", "--account", "--cores-per-node", "-o", "--output")
_POSITIONED = re.compile(r"^(\S+?):(\d+) (?:(\S+): )?(.*)$")


class Output:
    """Where the lines of a run go: the terminal, or with ``--json`` one document on stdout
    at the end (warnings and errors go to stderr either way). Each warning is said once."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.report: Dict[str, Any] = {"messages": [], "warnings": [], "errors": []}

    def say(self, line: str) -> None:
        if self.as_json:
            self.report["messages"].append(line)
        else:
            print(f"{PROG}: {line}", flush=True)

    def diff(self, line: str) -> None:
        if self.as_json:
            self.report.setdefault("diff", []).append(line)
        else:
            print(line, flush=True)

    def warn(self, line: str) -> None:
        if line in self.report["warnings"]:
            return
        self.report["warnings"].append(line)
        print(f"{PROG}: warning: {line}", file=sys.stderr, flush=True)

    def failed(self, exc: BaseException) -> None:
        """Record the error that ends the run; ``command.main`` prints it on stderr."""
        kind = "pre-flight" if isinstance(exc, CheckFailed) else "input" \
            if isinstance(exc, ConfigError) else "apply"
        if isinstance(exc, CheckFailed):
            self.report["preflight"] = "failed"
        for line in command.lines_of(exc):
            entry: Dict[str, Any] = {"message": line, "kind": kind}
            match = _POSITIONED.match(line)
            if match and kind == "input":
                entry.update(file=match.group(1), line=int(match.group(2)),
                             message=match.group(4), path=match.group(3) or "")
            self.report["errors"].append(entry)

    def finish(self, rc: int) -> int:
        if self.as_json:
            self.report.update(ok=rc == 0, exit_code=rc)
            json.dump(self.report, sys.stdout, indent=2, sort_keys=True)
            sys.stdout.write("\n")
        return rc


def _account(text: str) -> Tuple[str, str]:
    user, sep, group = text.partition(":")
    if not user or not sep or not group:
        raise argparse.ArgumentTypeError("expected USER:GROUP, e.g. app:apps")
    return user, group


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of CPUs >= 1, got {text!r}")
    return value


def _always(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--json", action="store_true", help="print the result as one JSON document")
    sub.add_argument("--version", action="version", version=f"{PROG} {__version__}")


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
    sub.add_argument("--cores-per-node", type=_positive, default=0, metavar="N",
                     help="CPUs of the party's nodemanager hosts (the smallest) for "
                          "eggroll.session.processors.per.node, when this host is not one "
                          "(fate-deploy passes them); eggroll.cores_per_node of the party "
                          "YAML wins")
    _always(sub)


def build_parser() -> argparse.ArgumentParser:
    summary = __doc__.split("\n\n")[0].replace("``", "")
    parser = argparse.ArgumentParser(prog=PROG, description=summary,
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subs = parser.add_subparsers(dest="command")
    apply = subs.add_parser("apply", help="validate, plan and apply (the default command)")
    _common(apply)
    apply.add_argument("--check", action="store_true",
                       help="dry run: report what would change and change nothing")
    apply.add_argument("--diff", action="store_true",
                       help="with --check (or alone): unified diff per file, secrets masked")
    what = apply.add_mutually_exclusive_group()
    what.add_argument("--restart", dest="restart", action="store_const", const=True,
                      default=None, help="restart the services whose rendered files changed, "
                      "stopped ones too (default: the running ones)")
    what.add_argument("--no-restart", dest="restart", action="store_const", const=False,
                      help="restart nothing; say which services need it")
    apply.add_argument("--no-block", action="store_true",
                       help="queue the restarts and return (fate-deploy waits for them in "
                            "its start order across hosts)")
    check = subs.add_parser("check", help="validate the whole party (exit 2 if it is wrong), "
                                          "then pre-flight this host if it is one of the "
                                          "party's (exit 1 if that fails)")
    _common(check)
    imp = subs.add_parser("import-ansible", help="convert ansible-nfate var files to a party YAML")
    imp.add_argument("var_file", help="var_files/prod/fate_guest, fate_host or fate_exchange")
    imp.add_argument("extra", nargs="*", help="base_init and/or fate_init")
    imp.add_argument("-o", "--output", help="write here instead of stdout (refuses to overwrite)")
    imp.add_argument("--drop-unknown", action="store_true",
                     help="drop keys fate-configure does not know (with a warning each) "
                          "instead of refusing the file")
    _always(imp)
    _always(subs.add_parser("schema", help="print the party JSON Schema"))
    _always(subs.add_parser("example", help="print party.yaml.example"))
    return parser


def _import(args: argparse.Namespace, out: Output) -> int:
    text, notes = import_ansible(args.var_file, args.extra, args.drop_unknown)
    for note in notes:
        out.warn(note)
    secret = any("password" in note for note in notes) or "passwd:" in text
    if args.output:
        # a file holding a password is created 0600 (never readable by others, even briefly)
        mode = 0o600 if secret else 0o644
        try:
            fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            raise ConfigError(f"{args.output}: exists; choose another -o") from None
        except OSError as exc:
            raise ConfigError(f"{args.output}: cannot write: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), mode)  # not widened by the umask, not narrowed either
            handle.write(text)
        out.say("wrote {} (mode {:o}{})".format(args.output, mode,
                                                ", it holds passwords" if secret else ""))
        out.report.update(output=args.output, mode=f"{mode:04o}")
    elif out.as_json:
        out.report["party"] = text
    else:
        sys.stdout.write(text)
    return 0


def _check(args: argparse.Namespace, out: Output, root: Root,
           host_facts: facts.HostFacts) -> int:
    """The party as a whole (any machine), then the pre-flight of this host if it is one of
    the party's: with ``--root`` the tree stands for the host; else --host (or a matching
    address) must be an address of this machine."""
    doc, party = pipeline.load_party(args.party)
    hosts = pipeline.hosts_of(doc, party, args.host)
    _readable(args, out)
    out.say("{}: {} is valid: {}".format(args.party, party.label, "; ".join(
        "{} {}".format(ip, ", ".join(services)) for ip, services in hosts.items())))
    out.report.update(file=args.party, party=party.label, hosts=hosts)
    local = pipeline.local_host(party, args.host, host_facts, root)
    if local is None:
        if not root.is_live:
            what = f"pass --host IP to say which of the party's hosts {args.root} is"
        elif args.host:
            what = f"{args.host} is not an address of this machine"
        else:
            what = "this machine has none of the party's addresses"
        out.say(f"pre-flight skipped: {what} (run `fate-configure check` on each host for "
                "its own pre-flight)")
        out.report["preflight"] = "skipped"
        return 0
    prep = _prepared(args, out, root, host_facts)
    _preflight(out, prep)
    out.report["preflight"] = "passed"
    out.say("check passed")
    return 0


def _readable(args: argparse.Namespace, out: Output) -> None:
    """Said once the file is valid: a bad file gets its problems only, one line each."""
    if pipeline.readable_by_others(args.party):
        out.warn(f"{args.party} is readable by other users and may hold passwords; "
                 "chmod 600 it")


def _prepared(args: argparse.Namespace, out: Output, root: Root,
              host_facts: facts.HostFacts) -> pipeline.Prepared:
    prep = pipeline.prepare(args.party, root, host_facts, args.host, args.init, args.account)
    _readable(args, out)
    plan = prep.plan
    out.say("{} on {}: {}".format(plan.label, plan.host, ", ".join(plan.services)))
    out.report.update(file=args.party, party=plan.label, host=plan.host,
                      services=list(plan.services))
    return prep


def _preflight(out: Output, prep: pipeline.Prepared) -> None:
    for finding in prep.findings:
        if finding.level == "warning":
            out.warn(finding.message)
    errors = [f.message for f in prep.findings if f.level == "error"]
    if errors:
        raise CheckFailed("\n".join("pre-flight: " + e for e in errors))


def _run(args: argparse.Namespace, out: Output) -> int:
    if args.command == "schema":
        if out.as_json:  # the schema is a JSON document already
            out.as_json = False
        sys.stdout.write(json_schema())
        return 0
    if args.command == "example":
        if out.as_json:
            out.report["example"] = example.render_example()
        else:
            sys.stdout.write(example.render_example())
        return 0
    if args.command == "import-ansible":
        return _import(args, out)

    root = Root(args.root)
    host_facts = facts.gather()._replace(node_cores=args.cores_per_node)
    if not root.is_live:
        host_facts = host_facts._replace(systemd=False)
    if args.command == "check":
        return _check(args, out, root, host_facts)
    prep = _prepared(args, out, root, host_facts)
    _preflight(out, prep)
    if args.check:
        count = pipeline.dry_run(root, prep, args.diff, out.say, out.say, out.diff)
        out.report["changes"] = count
        out.say(f"dry run: {count} change(s) would be made; nothing was changed"
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
            pipeline.dry_run(root, prep, True, out.say, out.say, out.diff)
        count = pipeline.apply(root, prep, host_facts, args.restart, out.say,
                               block=not args.no_block)
    out.report["changes"] = count
    out.say(f"{count} change(s) made" if count else "nothing changed: already configured")
    return 0


def normalize(argv: List[str]) -> List[str]:
    """Options in any order: the command word goes first (``apply`` when there is none),
    so ``fate-configure --check party.yaml`` means ``fate-configure apply --check
    party.yaml`` and ``--root DIR check p.yaml`` means ``check --root DIR p.yaml``."""
    index, skip = None, False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == "--":
            index = i + 1 if i + 1 < len(argv) else None
            break
        elif arg.startswith("-") and arg != "-":
            skip = arg in _VALUED
        else:
            index = i
            break
    if index is None:
        only_top = all(a in ("-h", "--help", "--version") for a in argv)
        return argv if only_top else ["apply"] + argv
    if argv[index] in SUBCOMMANDS:
        return [argv[index]] + argv[:index] + argv[index + 1:]
    return ["apply"] + argv


def run(args: argparse.Namespace) -> int:
    """The command; with --json the report is printed whatever happens, then an error
    goes on to ``command.main``, which prints it and returns its exit code."""
    out = Output(args.json)
    try:
        return out.finish(_run(args, out))
    except Exception as exc:
        if isinstance(getattr(exc, "exit_code", None), int):  # the project's errors
            out.failed(exc)
            out.finish(exc.exit_code)
        raise


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = normalize(list(sys.argv[1:] if argv is None else argv))
    return command.main(PROG, build_parser(), argv, run,
                        "files written so far are complete (atomic), re-run to converge")


if __name__ == "__main__":
    sys.exit(main())

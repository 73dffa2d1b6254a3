"""``fate-deploy``: a whole party from one control host, on Ansible.

    fate-deploy party.yaml --bundle /data/fate-bundle-1.4.5-el7.x86_64
    fate-deploy party.yaml --inventory environments/prod/hosts --check
    fate-deploy party.yaml --user app --limit 192.168.0.2
    fate-deploy emit party.yaml -o deploy/     # the inventory, playbook and roles only

Pre-flight on every host first (nothing changes anywhere unless every host passes), then
each host's packages from the bundle (install.sh), fate-configure on the MySQL host, its
secrets.yaml to the others, fate-configure there, the services started across hosts in
the catalogue's stage order, fate-ctl toy on the fate_flow host, and a summary table.
Exit codes: 0 done (or nothing to do), 1 a host failed (named, with the step), 2 bad input.
"""

import argparse
import json
import os
import shutil
import sys
import time
from typing import Dict, Optional, Sequence

from packager.onhost import command
from packager.onhost.configure.errors import ConfigError
from packager.onhost.configure.pipeline import load_party

from . import bundle as bundles
from . import report, state
from .emit import Settings, emit
from .inventory import Connection, read_inventory
from .plan import make_plan
from .run import run_playbook

PROG = "fate-deploy"


def _say(line: str) -> None:
    print(f"{PROG}: {line}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    summary, epilog = __doc__.split("\n\n", 1)
    parser = argparse.ArgumentParser(prog=PROG, description=summary.replace("``", ""),
                                     epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    subs = parser.add_subparsers(dest="command")
    run = subs.add_parser("run", help="deploy the party (the default command)")
    emit_p = subs.add_parser("emit", help="write inventory, playbook and roles; run nothing")
    for sub in (run, emit_p):
        sub.add_argument("party", help="the party YAML (fate-configure's format)")
        sub.add_argument("--bundle", metavar="DIR", default=".",
                         help="the unpacked bundle (default: the current directory)")
        sub.add_argument("--inventory", metavar="FILE",
                         help="an Ansible INI inventory with ssh/become settings (the seed's "
                              "[fate] / [deploy_check] / [all:vars] shape)")
        sub.add_argument("--user", help="ssh user (default: the inventory's, else root)")
        sub.add_argument("--port", type=int, help="ssh port")
        sub.add_argument("--become", dest="become", action="store_true", default=None,
                         help="sudo to root on the hosts (default when the user is not root)")
        sub.add_argument("--no-become", dest="become", action="store_false")
        sub.add_argument("--become-method", help="sudo (default) or su")
        sub.add_argument("--private-key", metavar="FILE", help="ssh private key")
        sub.add_argument("--ssh-args", metavar="ARGS",
                         help="extra ssh options (ansible_ssh_common_args)")
        sub.add_argument("--account", default="app",
                         help="service account the RPMs create (default app)")
    emit_p.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="directory to write (created; files in it are replaced)")
    run.add_argument("--check", action="store_true",
                     help="change nothing: pre-flight, and each host's fate-configure "
                          "--check --diff (secrets masked)")
    run.add_argument("--limit", metavar="HOST", help="(re)deploy this party address only")
    run.add_argument("--json", action="store_true", help="the summary as JSON on stdout")
    run.add_argument("--workdir", metavar="DIR",
                     help="where the playbook, logs and the MySQL host's secrets are kept "
                          "(default ~/.fate-deploy/<party>)")
    run.add_argument("--ansible-playbook", default="ansible-playbook", metavar="PATH",
                     help="the ansible-playbook to run (default: from PATH)")
    return parser


def _connection(args: argparse.Namespace) -> Connection:
    return Connection(args.user, args.port, args.become, args.become_method,
                      args.private_key, args.ssh_args)


def prepare(args: argparse.Namespace, out_dir: str, retired: Optional[dict] = None,
            known_cpus: Optional[Dict[str, int]] = None):
    """Validate the party, the inventory and the bundle; write the Ansible files."""
    doc, party = load_party(args.party)
    plan = make_plan(party)
    operator = read_inventory(args.inventory) if args.inventory else None
    if operator is not None:
        extra = sorted(set(operator.party_hosts) - {h.address for h in plan.hosts})
        if extra:
            _say("note: {} in {} [fate] but not in {}: left alone".format(
                ", ".join(extra), args.inventory, args.party))
    found = bundles.find_bundle(args.bundle)
    _say(f"checking the bundle {found} (SHA256SUMS)")
    bundle = bundles.load(found)
    missing = sorted({p for h in plan.hosts for p in h.packages} - set(bundle.packages))
    if missing:
        raise ConfigError(f"{found}: the bundle has no {', '.join(missing)}, which "
                          f"{args.party} needs (build the all-in-one bundle)")
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    files = os.path.join(out_dir, "files")
    tars = {h.address: bundles.tar_for_host(bundle, bundle.host_files(h.packages), files)
            for h in plan.hosts}
    for stale in set(os.listdir(files)) - {os.path.basename(t) for t in tars.values()}:
        os.remove(os.path.join(files, stale))   # an earlier bundle's or party's
    secrets_dir = os.path.join(out_dir, "secrets")
    os.makedirs(secrets_dir, mode=0o700, exist_ok=True)
    os.chmod(secrets_dir, 0o700)
    shutil.rmtree(os.path.join(out_dir, "results"), ignore_errors=True)  # an older version's
    settings = Settings(os.path.abspath(args.party), tars, bundle.name,
                        os.path.join(secrets_dir, "secrets.yaml"),
                        {h.address: bundle.need_kib(h.packages) for h in plan.hosts},
                        args.account, retired, known_cpus)
    emit(out_dir, plan, settings, _connection(args), operator)
    return plan, settings


def _workdir(args: argparse.Namespace, label: str) -> str:
    if args.workdir:
        return os.path.abspath(args.workdir)
    return os.path.join(os.path.expanduser("~"), ".fate-deploy", label.replace(" ", "-"))


def cmd_emit(args: argparse.Namespace) -> int:
    plan, _ = prepare(args, os.path.abspath(args.output))
    _say(f"wrote {args.output}: hosts.ini, site.yml, group_vars/, host_vars/, roles/ for "
         f"{plan.label} ({len(plan.hosts)} hosts); run: cd {args.output} && "
         "ansible-playbook site.yml")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    _, party = load_party(args.party)
    workdir = _workdir(args, party.label)
    deployed = state.load(workdir)
    previous = deployed.hosts
    plan_now = make_plan(party)
    addresses = [h.address for h in plan_now.hosts]
    retired = {a: u for a, u in previous.items() if a not in addresses}
    if args.limit and args.limit not in addresses + list(retired):
        raise ConfigError(f"--limit {args.limit}: not an address of {args.party} "
                          f"({', '.join(addresses)})")
    plan, settings = prepare(args, workdir, retired, deployed.cpus)
    for address, units in retired.items():
        _say(f"{address} left the party: its services {' '.join(units)} will be stopped")
    logs = os.path.join(workdir, "logs")
    os.makedirs(logs, exist_ok=True)
    log = os.path.join(logs, time.strftime("deploy-%Y%m%dT%H%M%S.log"))
    _say("{} {} on {} host(s): ansible-playbook {}/site.yml (log: {})".format(
        "checking" if args.check else "deploying", plan.label, len(plan.hosts), workdir, log))
    started = time.monotonic()
    result = run_playbook(workdir, args.ansible_playbook, args.check, args.limit, log, _say)
    if os.path.exists(settings.secrets):   # 0600 also after a run of an older umask
        os.chmod(settings.secrets, 0o600)
    summary = report.collect(plan, result, args.check, sorted(retired))
    summary["seconds"] = round(time.monotonic() - started, 1)
    if summary["ok"] and not args.check:
        done = {h.address: h.units for h in plan.hosts}
        if args.limit:  # only the limited host was touched
            done = dict(previous)
            if args.limit in retired:
                done.pop(args.limit)
            else:
                done[args.limit] = plan.host(args.limit).units
        cpus = {a: n for a, n in dict(deployed.cpus, **report.preflight_cpus(result)).items()
                if a in plan.nodemanagers}
        state.save(workdir, state.Deployed(done, cpus))
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        for host, row in summary["hosts"].items():
            for finding in row["preflight"]:
                _say(f"{host}: {finding}")
            if args.check and row["check"]:
                print(f"--- {host}: fate-configure --check --diff")
                print(row["check"].rstrip())
        print(report.table(summary))
    failure = report.first_failure(summary)
    if failure:
        _say("FAILED: " + failure)
        if any(r["failed"] and r["failed"]["play"].startswith("pre-flight")
               for r in summary["hosts"].values()):
            _say("pre-flight failed: no host was changed")
        _say("fix it and run fate-deploy again: it continues where this run stopped")
        return 1
    if not summary["ok"]:
        _say(f"ansible-playbook exited {result.returncode}; see {log}")
        return 1
    _say("{}: {} change(s) in {:.0f} s".format(
        "check done, nothing was changed" if args.check else "done", summary["changed"],
        summary["seconds"]) if summary["changed"] or args.check else
        "done: nothing changed, already deployed")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in ("run", "emit") and not argv[0].startswith("-"):
        argv.insert(0, "run")
    return command.main(
        PROG, build_parser(), argv,
        lambda args: cmd_emit(args) if args.command == "emit" else cmd_run(args),
        "each host keeps the steps it finished; run fate-deploy again to converge")

if __name__ == "__main__":
    sys.exit(main())

"""``fate-ctl doctor``: pre-flight checks, service status and config drift, in one report.

Each check prints ``ok``, ``WARN`` or ``FAIL`` and one line saying what it found; the exit
status is 1 when anything FAILs. The pre-flight checks are the ones FATE's own deployers
run (ports, swap, hostname resolution: FATE#768) plus what our units need (binaries at the
paths in the service catalogue, the service account, parseable env files). Config drift
since the last fate-configure is the configurator's own dry run against the party file it
last applied (``packager.onhost.configure.pipeline``).
"""

import os
import shutil
import socket
from typing import Callable, List, Tuple

from packager.onhost import catalogue
from packager.onhost import services as svcdef
from packager.onhost.configure import facts as facts_mod
from packager.onhost.configure import paths as paths_mod
from packager.onhost.configure import pipeline
from packager.onhost.ctl import status as status_mod
from packager.onhost.ctl.host import Host

Check = Tuple[str, str]  # (level, message); level in ok / WARN / FAIL


def _account_exists(host: Host, user: str) -> bool:
    try:
        with open(host.path("/etc/passwd"), encoding="utf-8") as fh:
            return any(line.split(":", 1)[0] == user for line in fh)
    except OSError:
        return False


def preflight(host: Host, user: str) -> List[Check]:
    checks: List[Check] = []
    configured = host.configured()
    if not configured:
        checks.append(("FAIL", f"no env files in {host.env_dir}: "
                               "fate-configure has not run on this host"))
    if _account_exists(host, user):
        checks.append(("ok", f"service account {user} exists"))
    else:
        checks.append(("FAIL", f"service account {user} does not exist (fate-common's %pre "
                       "creates it)"))
    for svc in configured:
        try:
            env = host.environment(svc)
            argv = svcdef.expand_command(svc, env, user)
            host.listen_endpoints(svc)
            host.wait_endpoints(svc)
        except catalogue.ServiceDefinitionError as exc:
            checks.append(("FAIL", f"{svc.unit}: {exc}"))
            continue
        exe = host.path(argv[0])
        if not os.access(exe, os.X_OK):
            checks.append(("FAIL", f"{svc.unit}: {argv[0]} is missing or not executable"))
        elif not os.path.isdir(host.path(svc.directory)):
            checks.append(("FAIL", f"{svc.unit}: working directory {svc.directory} is missing"))
        else:
            checks.append(("ok", f"{svc.unit}: {argv[0]} present"))
    try:
        name = socket.gethostname()
        socket.getaddrinfo(name, None)
        checks.append(("ok", f"hostname {name} resolves"))
    except OSError:
        checks.append(("FAIL", f"hostname {socket.gethostname()} does not resolve: fate_flow fails "
                       "in get_lan_ip() "
                       "(FATE#768); add it to /etc/hosts"))
    checks.append(_swap(host))
    checks.append(_disk(host))
    return checks


def _swap(host: Host) -> Check:
    try:
        with open(host.path("/proc/swaps"), encoding="utf-8") as fh:
            rows = fh.read().splitlines()[1:]
    except OSError:
        return ("WARN", "cannot read /proc/swaps")
    kib = sum(int(r.split()[2]) for r in rows if len(r.split()) > 2 and r.split()[2].isdigit())
    if kib == 0:
        return ("WARN", "no swap: FATE's deployer wants swap (its check says 'now swap is 0')")
    return ("ok", "swap %.1f GiB" % (kib / 1024.0 / 1024.0))


def _disk(host: Host) -> Check:
    path = host.path("/data") if os.path.isdir(host.path("/data")) else host.path("/")
    free = shutil.disk_usage(path).free / 1024.0 ** 3
    if free < 10:
        return ("WARN", f"only {free:.1f} GiB free on {path}")
    return ("ok", f"{free:.1f} GiB free on {path}")


def port_conflicts(rows: List[dict]) -> List[Check]:
    """A port that answers while its service is not running belongs to someone else: the
    service will fail to bind (FATE's pre-check: 'these ports ... have been used')."""
    checks: List[Check] = []
    for row in rows:
        running = str(row["state"]).startswith("active")
        for port in row["ports"]:
            if port["answering"] and not running and row["state"] != "unknown":
                checks.append(("FAIL", "{} is not running but {} answers: another process "
                               "holds the port".format(row["service"], port["endpoint"])))
    return checks


APPLIED_PARTY = "/etc/fate/party.yaml"


def drift(host: Host, account: Tuple[str, str]) -> List[Check]:
    """What ``fate-configure apply --check`` would change now, against the party file it
    last applied (/etc/fate/party.yaml): a hand edit of a rendered config, a deleted env
    file, a unit disabled by hand. Runs the configurator's own dry run, in-process."""
    party = host.path(APPLIED_PARTY)
    if not os.path.isfile(party):
        return [("WARN", f"config drift not checked: no {APPLIED_PARTY} "
                 "(fate-configure has not applied a party here)")]
    root = paths_mod.Root(host.root)
    facts = facts_mod.gather()
    if not root.is_live:
        facts = facts._replace(systemd=False)
    init = "supervisor" if host.manager == "supervisor" else "systemd"
    changes: List[str] = []
    try:
        prep = pipeline.prepare(party, root, facts, None, init, account,
                                probe=lambda _host, _port: None)
        pipeline.dry_run(root, prep, False, changes.append)
    except Exception as exc:  # the configurator's errors carry their own one-line messages
        messages = getattr(exc, "messages", None) or [str(exc)]
        return [("WARN", f"config drift not checked: fate-configure: {messages[0]}")]
    if not changes:
        return [("ok", f"no config drift since the last fate-configure ({APPLIED_PARTY})")]
    return [("FAIL", f"drift: {line}") for line in changes]


def run(host: Host, account: Tuple[str, str], out_print: Callable = print) -> int:
    checks = preflight(host, account[0])
    rows = status_mod.collect(host) if host.configured() else []
    for row in rows:
        if row["healthy"]:
            checks.append(("ok", "{} {}, ports answer".format(row["service"], row["state"])))
        else:
            down = [p["endpoint"] for p in row["ports"] if not p["answering"]]
            what = "{} {}".format(row["service"], row["state"])
            if down:
                what += ", not answering: " + " ".join(down)
            if row["last_error"]:
                what += "; last error: " + row["last_error"]["line"][:120]
            checks.append(("FAIL", what))
    checks += port_conflicts(rows)
    checks += drift(host, account)
    for level, message in checks:
        out_print(f"{level:<4} {message}")
    failed = sum(1 for level, _ in checks if level == "FAIL")
    out_print(f"doctor: {failed} problem(s)" if failed else "doctor: all checks passed")
    return 1 if failed else 0

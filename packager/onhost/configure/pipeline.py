"""load -> validate -> plan -> apply (docs/architecture.md "Target pipeline").

``prepare`` does everything that only reads (and raises ConfigError, exit 2, before
any change); ``apply`` and ``dry_run`` take its result. Nothing is written until every
check has passed.
"""

import contextlib
import copy
import fcntl
import os
import re
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from packager.onhost import catalogue

from . import files, passwords, paths, preflight, supervisor, units
from .errors import CheckFailed, ConfigError
from .facts import HostFacts
from .loader import Document, load_file
from .loader import Path as LoaderPath
from .model import Party
from .mysql import MysqlSteps
from .paths import APPLIED_HOST, APPLIED_NODE_CORES, EGGROLL_SQL, Root
from .plan import FileSpec, Plan, cores_guessed, make_plan
from .schema import check_document, load_schema
from .semantic import check_host, check_party, tcp_answers


class Prepared(NamedTuple):
    doc: Document
    party: Party
    plan: Plan
    stored: Optional[passwords.Secrets]
    owners: Dict[Tuple[str, str], Tuple[int, int]]
    findings: List[preflight.Finding]


def load_party(filename: str) -> Tuple[Document, Party]:
    """Load and validate (schema, then the party's own consistency); all errors at once.

    The consistency checks run even when the schema found mistakes, on the values it
    accepted, so one run lists every problem of the file (in line order)."""
    doc = load_file(filename, keep_going=True)
    data, errors, bad = check_document(doc)
    errors = doc.errors + errors
    role = next(iter(data)) if isinstance(data, dict) and len(data) == 1 else None
    if role in load_schema()["properties"] and isinstance(data[role], dict) and \
            all(len(path) > 1 for path in bad):
        party = Party(_without(data, bad))
        errors += check_party(doc, party, skip=bad)
    if errors:
        raise ConfigError(sorted(errors, key=_line_of))
    return doc, Party(data)


def _without(data: Dict[str, Any], bad: Sequence[LoaderPath]) -> Dict[str, Any]:
    """``data`` minus the values the schema refused (a bad list item drops its list)."""
    data = copy.deepcopy(data)
    for path in bad:
        if path and isinstance(path[-1], int):
            path = path[:-1]
        parent: Any = data
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return data


def _line_of(message: str) -> int:
    match = re.match(r"^\S+?:(\d+) ", message)
    return int(match.group(1)) if match else 0


def pick_host(doc: Document, party: Party, host: Optional[str], facts: HostFacts,
              recorded: Optional[str] = None) -> str:
    """--host, else the one address of this host that the party lists, else the address
    a previous run was told with --host (a NAT'd or renumbered host, or a --root tree)."""
    known = sorted(party.all_ips(), key=lambda ip: tuple(int(x) for x in ip.split(".")))
    if host is not None:
        if host not in known:
            raise ConfigError("{}: --host {} is not an address of {} (known: {})".format(
                doc.filename, host, party.label, ", ".join(known)))
        return host
    matches = [ip for ip in facts.addresses if ip in known]
    if not matches and recorded in known:
        return str(recorded)
    if not matches:
        raise ConfigError("{}: this host ({}) runs nothing of {}: none of its addresses is in the "
                          "file (known: {}); add it or pass --host IP".format(
                              doc.filename, ", ".join(facts.addresses) or "no IPv4 address",
                              party.label, ", ".join(known)))
    if len(matches) > 1:
        raise ConfigError("{}: this host has several of the party's addresses ({}); pass --host "
                          "IP to choose".format(doc.filename, ", ".join(matches)))
    return matches[0]


def hosts_of(doc: Document, party: Party, host: Optional[str]) -> Dict[str, List[str]]:
    """Each address of the party with its services (only ``host``'s when given)."""
    if host is not None:
        pick_host(doc, party, host, HostFacts([], False))  # refuses an address not listed
    ips = [host] if host is not None else sorted(
        party.all_ips(), key=lambda ip: tuple(int(x) for x in ip.split(".")))
    return {ip: party.services_on(ip) for ip in ips}


def local_host(party: Party, host: Optional[str], facts: HostFacts, root: Root) -> Optional[str]:
    """The party address this machine is, if it is one: a --root tree is whatever host it
    is told (--host) or the one a previous run recorded; the live system must have the
    address itself. None: pre-flight does not apply here."""
    known = party.all_ips()
    if not root.is_live:
        recorded = _recorded_host(root)
        return host or (recorded if recorded in known else None)
    mine = [ip for ip in facts.addresses if ip in known]
    if host is not None:
        return host if host in facts.addresses else None
    return mine[0] if len(mine) == 1 else None


def _recorded_host(root: Root) -> Optional[str]:
    return _recorded(root, APPLIED_HOST) or None


def _recorded_cores(root: Root) -> int:
    """The nodemanager hosts' CPU count a previous run was given, 0 when none (or unreadable:
    the run then warns as if it had never been given)."""
    text = _recorded(root, APPLIED_NODE_CORES)
    return int(text) if text.isdigit() else 0


def _recorded(root: Root, path: str) -> str:
    try:
        with open(root(path), encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def prepare(filename: str, root: Root, facts: HostFacts, host: Optional[str] = None,
            init: str = "systemd", account: Tuple[str, str] = ("app", "apps"),
            probe: Callable[[str, int], Optional[str]] = tcp_answers) -> Prepared:
    doc, party = load_party(filename)
    ip = pick_host(doc, party, host, facts, _recorded_host(root))
    services = party.services_on(ip)
    # what this host lacks for its part (certificates, the external MySQL, the RPMs) is a
    # pre-flight error: exit 1, the party itself being valid
    findings = [preflight.Finding("error", e) for e in check_host(doc, party, services, root,
                                                                    probe)]
    stored = passwords.load(root)
    secrets, _ = passwords.resolve(doc, party, services, stored)
    present = units.installed(root)
    if init == "systemd":
        missing = [catalogue.get(s).unit for s in services
                   if catalogue.get(s).unit not in present]
        if missing:
            findings.append(preflight.Finding(
                "error", "{}.service not installed: install the package providing it, or "
                         "remove this host from those services".format(
                             ".service, ".join(missing))))
    with open(filename, encoding="utf-8") as handle:
        text = handle.read()
    # given now, else what the last run was given: a hand-run configure, doctor or restore
    # must not re-render processors.per.node from this host's CPUs (and restart the managers)
    node_cores = facts.node_cores or _recorded_cores(root)
    if cores_guessed(party, services, node_cores):
        findings.append(preflight.Finding(
            "warning", f"eggroll.session.processors.per.node comes from this host's "
                       f"{facts.cpus} CPU(s), but it runs no nodemanager: set "
                       f"eggroll.cores_per_node in {filename} (a nodemanager host's CPUs, the "
                       "smallest) or pass --cores-per-node N"))
    plan = make_plan(party, ip, secrets, text, present, init, account,
                     node_cores or facts.cpus, facts.mem_kib)
    if node_cores:
        plan = plan._replace(files=plan.files + (FileSpec(
            APPLIED_NODE_CORES, f"{node_cores}\n", 0o644, "root", "root", ()),))
    if init == "supervisor":
        plan = plan._replace(files=plan.files + tuple(supervisor.program_files(plan, account)),
                             remove=plan.remove + supervisor.stale_programs(plan), disable=())
    try:
        owners = files.resolve_owners(root, plan.files)
    except ConfigError as exc:  # the host lacks the account (fate-common not installed)
        findings += [preflight.Finding("error", message) for message in exc.messages]
        owners = {(spec.owner, spec.group): (-1, -1) for spec in plan.files}
    findings += preflight.run_checks(
        party, services, root, init, first_run=stored is None,
        root_password_given=bool(party.get("mysql", "root_passwd")), systemd=facts.systemd,
        account=account[0])
    return Prepared(doc, party, plan, stored, owners, findings)


@contextlib.contextmanager
def exclusive(root: Root) -> Iterator[None]:
    """One fate-configure at a time per host: two runs would interleave backups and
    MySQL steps. A lock file in /etc/fate, released when the process ends."""
    path = root(paths.ETC + "/.fate-configure.lock")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConfigError(f"another fate-configure is running on this host ({paths.ETC}/"
                              ".fate-configure.lock is locked); wait for it") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def readable_by_others(filename: str) -> bool:
    try:
        return bool(os.stat(filename).st_mode & 0o004)
    except OSError:
        return False


def changed_files(root: Root, prep: Prepared) -> List[Tuple[files.FileSpec, str]]:
    out: List[Tuple[files.FileSpec, str]] = []
    for spec in prep.plan.files:
        reason = files.needs_write(root, spec, prep.owners[(spec.owner, spec.group)])
        if reason:
            out.append((spec, reason))
    return out


def dry_run(root: Root, prep: Prepared, show_diff: bool, out: Callable[[str], None],
            note: Optional[Callable[[str], None]] = None,
            diff_out: Optional[Callable[[str], None]] = None) -> int:
    """``--check``: say what would change; change nothing. Returns the number of changes.

    ``out`` gets one line per change, so a caller such as ``fate-ctl doctor`` can treat
    every line as drift; ``note`` gets what is not a change; ``diff_out`` the diff lines
    (default ``out``)."""
    diff_out = diff_out or out
    plan = prep.plan
    count = 0
    for spec, reason in changed_files(root, prep):
        count += 1
        out(f"would write {spec.path} ({reason})")
        if show_diff and reason in ("new", "content"):
            for line in files.diff(root, spec, plan.secrets):
                diff_out(line.rstrip("\n"))
    for path in plan.remove:
        if os.path.exists(root(path)):
            count += 1
            out(f"would remove {path} (service not on this host)")
    if plan.db is not None and note is not None:
        note("would check MySQL: databases {}, users {}@{}, eggroll tables, server_node rows "
             "(each created only if missing; managers no longer in the party removed)".format(
                 ", ".join(plan.db.databases), plan.db.user, ",".join(plan.db.client_ips)))
    if plan.init == "systemd":
        count += len(units.converge(root, plan.enable, plan.disable, True, out))
    return count


def apply(root: Root, prep: Prepared, facts: HostFacts, restart: Optional[bool],
          out: Callable[[str], None], sql_files: Sequence[str] = EGGROLL_SQL,
          block: bool = True) -> int:
    """Write files, converge MySQL and units; returns the number of changes.

    ``restart``: None (the default) restarts the running services whose rendered files or
    env changed, each once, in start order, saying which file made it; True (--restart)
    also asks for stopped ones (and says so where no systemd runs); False (--no-restart)
    only says which would need it. ``block=False`` queues the restarts (--no-block)."""
    plan = prep.plan
    errors = [f.message for f in prep.findings if f.level == "error"]
    if errors:
        raise CheckFailed("\n".join("pre-flight: " + e for e in errors))
    changes = 0
    before = units.running(root, plan.enable) if (
        restart is None and plan.init == "systemd" and facts.systemd) else []
    why: Dict[str, List[str]] = {}
    for spec, reason in changed_files(root, prep):
        files.write(root, spec, prep.owners[(spec.owner, spec.group)])
        out(f"wrote {spec.path} ({reason})")
        changes += 1
        if reason in ("new", "content"):
            for unit in spec.units:
                why.setdefault(unit, []).append(os.path.basename(spec.path))
    for path in plan.remove:
        if os.path.exists(root(path)):
            files.remove(root, path)
            out(f"removed {path} (service not on this host)")
            changes += 1
    if plan.db is not None:
        stored = prep.stored or {}
        account = next(f for f in plan.files if f.path == paths.MYSQL_CNF)
        steps = MysqlSteps(root, plan.db, sql_files, stored.get("mysql_root"), facts.systemd, out,
                           prep.owners[(account.owner, account.group)])
        changes += len(steps.run(stored.get("mysql_fate")))
    if plan.init == "systemd":
        changes += len(units.converge(root, plan.enable, plan.disable, False, out))
    order = [s.unit for s in catalogue.load()]
    wanted = [u for u in order if u in why]
    if restart is False:
        for unit in wanted:
            out("{} needs a restart ({} changed); --no-restart given".format(
                unit, ", ".join(why[unit])))
    elif plan.init == "supervisor":
        if restart:
            supervisor.restart(root, wanted, out)
    else:
        units.restart(root, wanted, facts.systemd, out, why,
                      only=before if restart is None else None, block=block)
    return changes

"""The plan: every file, database step and unit state for one host, computed up front.

A pure function of (party, this host's address, passwords, options): nothing here
touches the disk or the network, so the same plan drives ``--check --diff``, the apply
step and a later drift check, and tests can compare it with the reference directly.
"""

import json
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from packager.onhost import catalogue

from . import paths
from .model import Party
from .passwords import Secrets, dump
from .render import render
from .semantic import tls_files

HEADER = (f"Written by fate-configure from {paths.APPLIED_PARTY} - edit that file and run "
          f"fate-configure again; "
          "changes made here are replaced.")

class FileSpec(NamedTuple):
    path: str
    content: str
    mode: int
    owner: str
    group: str
    units: Tuple[str, ...]

class DbPlan(NamedTuple):
    root_password: str
    user: str
    password: str
    databases: Tuple[str, ...]
    client_ips: Tuple[str, ...]
    server_nodes: Tuple[Tuple[str, int, str], ...]
    eggroll_db: str
    account: str

class Plan(NamedTuple):
    label: str
    host: str
    services: Tuple[str, ...]
    files: Tuple[FileSpec, ...]
    db: Optional[DbPlan]
    enable: Tuple[str, ...]
    disable: Tuple[str, ...]
    remove: Tuple[str, ...]
    init: str
    secrets: Tuple[str, ...]

#: How long rollsite takes to pick up a changed route_table.json by itself, or None when it
#: must be restarted. eggroll 2.0.2's rollsite (Java ``Proxy`` + ``ConfFileBasedFdnRouter``)
#: reads the file once, at start (``setRouteTable`` -> ``init``); later only its own
#: ``setRouteTable`` RPC re-reads it, and no timer does. The 60 s re-read asked about in
#: eggroll#652 belongs to the later Scala rollsite. So with FATE 1.4.5 a route change
#: restarts rollsite, and nothing else: fate_flow, MySQL and the managers do not read it.
ROUTE_TABLE_REREAD_SECONDS: Optional[int] = None

EGGROLL_USERS = ("rollsite", "clustermanager", "nodemanager", "fate_flow")
FLOW_CONF_USERS = ("fate_flow", "nodemanager", "clustermanager")


def routes(party: Party) -> List[Tuple[str, List[Tuple[str, List[Dict[str, Any]]]]]]:
    """route_table.json's content as ordered (party, [(route name, [hops])])."""
    def hops(rules: List[Dict[str, Any]], name: str) -> List[Dict[str, Any]]:
        return [{"ip": r["ip"], "port": r["port"], "is_secure": bool(r.get("is_secure"))}
                for r in rules if r.get("name") == name]

    table: List[Tuple[str, List[Tuple[str, List[Dict[str, Any]]]]]] = []
    if party.is_exchange:
        for entry in party.body.get("partys") or []:
            table.append((str(entry["id"]), [("default", hops(entry["rules"], "default"))]))
        return table
    rs = party.section("rollsite") or {}
    rules = rs.get("rules") or []
    own: List[Tuple[str, List[Dict[str, Any]]]] = []
    default = hops(rules, "default") or [
        {"ip": party.first_ip("rollsite"), "port": rs.get("port"), "is_secure": False}]
    own.append(("default", default))
    flow = party.section("fate_flow")
    fateflow = hops(rules, "fateflow")
    if not fateflow and flow:
        fateflow = [{"ip": party.first_ip("fate_flow"), "port": flow.get("grpcPort"),
                     "is_secure": False}]
    if fateflow:
        own.append(("fateflow", fateflow))
    table.append((str(party.partyid), own))
    others = hops(rs.get("default_rules") or [], "default")
    if others:
        table.append(("default", [("default", others)]))
    return table


def database_names(party: Party) -> Tuple[str, ...]:
    """The party's MySQL databases, each once: eggroll's, fate_flow's, fateboard's."""
    flow = party.get("fate_flow", "dbname", "fate_flow")
    names: List[str] = []
    for name in (party.get("eggroll", "dbname", "eggroll_meta"), flow,
                 party.get("fateboard", "dbname", flow)):
        if name not in names:
            names.append(name)
    return tuple(names)


def processors_per_node(party: Party, cpus: int) -> int:
    """eggroll.session.processors.per.node: ``egg`` when set, else seed §7.1's
    cores x 0.8 / concurrent jobs (at least 1), cores = ``cores_per_node`` or ``cpus`` (the
    nodemanager hosts' CPUs when the caller knows them, else this host's)."""
    egg = party.get("eggroll", "egg")
    if egg:
        return int(egg)
    cores = party.get("eggroll", "cores_per_node") or cpus
    jobs = party.get("eggroll", "concurrent_jobs") or 1
    return max(1, int(cores * 0.8 / jobs))


def cores_guessed(party: Party, services: Sequence[str], given: int) -> bool:
    """Whether processors.per.node would come from the CPUs of a host that runs no
    nodemanager (so they say nothing of the hosts that run the eggs): this host renders
    eggroll.properties, the party sets neither ``egg`` nor ``cores_per_node``, and no
    nodemanager hosts' count was given."""
    return (bool(set(services) & set(EGGROLL_USERS)) and "nodemanager" not in services
            and not given and not party.get("eggroll", "egg")
            and not party.get("eggroll", "cores_per_node"))


def rollsite_heap(party: Party, mem_kib: int) -> str:
    """rollsite's -Xmx: ``max_memory`` as given (12G), else a quarter of the RAM."""
    given = (party.section("rollsite") or {}).get("max_memory")
    if given:
        return str(given)
    return f"{max(256, mem_kib // 4 // 1024)}m" if mem_kib else "1024m"


def context(party: Party, host: str, secrets: Secrets, cpus: int = 1) -> Dict[str, Any]:
    """Values the templates use, named after what they mean in FATE's files."""
    p = party
    rs = p.section("rollsite") or {}
    mysql = p.mysql_endpoint() or ("", 3306)
    zk = p.body.get("zk") if not p.is_exchange else None
    zk = zk if isinstance(zk, dict) else {}
    flow = p.section("fate_flow") or {}
    board = p.section("fateboard") or {}
    return {
        "header": HEADER,
        "party_label": p.label,
        "exchange": p.is_exchange,
        "partyid": "exchange" if p.is_exchange else p.partyid,
        "host": host,
        "mysql_ip": mysql[0], "mysql_port": mysql[1],
        "mysql_home": paths.MYSQL_HOME, "mysql_data": paths.MYSQL_DATA,
        "mysql_socket": paths.MYSQL_SOCKET, "mysql_pid": paths.MYSQL_PID,
        "mysql_logs": paths.LOGS + "/mysql",
        "db_user": p.get("mysql", "dbuser", "fate"),
        "db_password": secrets.get("mysql_fate", ""),
        "eggroll_db": p.get("eggroll", "dbname", "eggroll_meta"),
        "egg": processors_per_node(p, cpus),
        "process_tag": p.process_tag,
        "clustermanager_ip": p.first_ip("clustermanager"),
        "clustermanager_port": p.get("clustermanager", "port", 4670),
        "nodemanager_port": p.get("nodemanager", "port", 4671),
        "rollsite_ip": p.first_ip("rollsite"), "rollsite_port": rs.get("port", 9370),
        "rollsite_secure_port": rs.get("secure_port", 9371),
        "tls_server": tls_files(p, "server") if rs.get("server_secure") else None,
        "tls_client": tls_files(p, "client") if rs.get("client_secure") else None,
        "flow_ip": p.first_ip("fate_flow"), "flow_grpc_port": flow.get("grpcPort", 9360),
        "flow_http_port": flow.get("httpPort", 9380),
        "flow_db": p.get("fate_flow", "dbname", "fate_flow"),
        "board_ip": p.first_ip("fateboard") or "127.0.0.1", "board_port": board.get("port", 8080),
        "board_db": p.get("fateboard", "dbname", p.get("fate_flow", "dbname", "fate_flow")),
        "zk_enable": bool(zk.get("enable")),
        "zk_hosts": ["{}:{}".format(z["ip"], z.get("port", 2181)) for z in zk.get("lists") or []],
        "zk_use_acl": bool(zk.get("use_acl")), "zk_user": zk.get("user") or "fate",
        "zk_password": zk.get("passwd") or "",
        "java_home": paths.JAVA_HOME, "venv": paths.VENV, "pythonpath": paths.PYTHONPATH,
        "eggroll_home": paths.EGGROLL_HOME,
        "route_table": routes(p),
    }


def env_for(party: Party, service: str, host: str, mem_kib: int = 0) -> List[Tuple[str, str]]:
    """The unit's environment file (docs/contracts.md "Environment files")."""
    java = service in ("clustermanager", "nodemanager", "rollsite", "fateboard")
    python = service in ("fate_flow", "nodemanager")
    env: List[Tuple[str, str]] = []
    path: List[str] = []
    if python:
        path.append(paths.VENV + "/bin")
    if java or service == "fate_flow":
        path.append(paths.JAVA_HOME + "/bin")
    if service == "mysql":
        path.append(paths.MYSQL_HOME + "/bin")
    path.append(paths.PATH_TAIL)
    if java:
        env.append(("JAVA_HOME", paths.JAVA_HOME))
    if service != "mysql":
        env.append(("EGGROLL_HOME", paths.EGGROLL_HOME))
    if python:
        env.append(("PYTHONPATH", paths.PYTHONPATH))
        env.append(("VIRTUAL_ENV", paths.VENV))
    env.append(("PATH", ":".join(path)))
    if service in ("clustermanager", "nodemanager"):
        env.append(("EGGROLL_PORT", str(party.get(service, "port"))))
        env.append(("EGGROLL_PROCESS_TAG", party.process_tag))
    if service == "rollsite":
        env.append(("FATE_ROLLSITE_XMX", rollsite_heap(party, mem_kib)))
    if service != "mysql":
        env.append(("FATE_WAIT_FOR", " ".join(wait_for(party, service))))
    env.append(("FATE_LISTEN", " ".join(f"{readiness(service, key)}://{host}:{port}"
                                        for key, port in party.ports(service))))
    return env


def readiness(service: str, port_key: str) -> str:
    """The protocol ``service`` answers on its port ``port_key`` (a key of its party.yaml
    section), from the catalogue: one of its ports, or its secure port (rollsite's)."""
    svc = catalogue.get(service)
    for port in svc.port_specs + ([svc.secure_port] if svc.secure_port else []):
        if port.key == port_key:
            return port.protocol
    raise catalogue.ServiceDefinitionError(f"{service} has no port {port_key!r}")


def wait_for(party: Party, service: str) -> List[str]:
    """What must answer before ``service`` starts: the order FATE#1373 asks for."""
    def at(svc: str) -> List[str]:
        return [f"{readiness(svc, key)}://{ip}:{port}" for ip in party.ips(svc)
                for key, port in party.ports(svc) if key in catalogue.get(svc).port_keys]

    mysql = party.mysql_endpoint()
    db = ["mysql://{}:{}".format(*mysql)] if mysql else []
    if service == "clustermanager":
        return db
    if service == "nodemanager":
        return at("clustermanager")
    if service == "fate_flow":
        return db + at("clustermanager") + at("nodemanager") + at("rollsite")
    if service == "fateboard":
        flow = party.section("fate_flow") or {}
        return db + ["{}://{}:{}".format(readiness("fate_flow", "httpPort"), ip,
                                         flow.get("httpPort")) for ip in party.ips("fate_flow")]
    return []


def make_plan(party: Party, host: str, secrets: Secrets, party_text: str,
              installed_units: Tuple[str, ...], init: str = "systemd",
              account: Tuple[str, str] = paths.ACCOUNT, cpus: int = 1, mem_kib: int = 0
              ) -> Plan:
    services = tuple(party.services_on(host))
    ctx = context(party, host, secrets, cpus)
    user, group = account
    units = {s: catalogue.get(s).unit for s in services}
    files: List[FileSpec] = []

    def add(path: str, template: str, mode: int, owner: Tuple[str, str], restart: Tuple[str, ...],
            extra: Optional[Dict[str, Any]] = None) -> None:
        values = dict(ctx, **(extra or {}))
        files.append(FileSpec(path, render(template, values), mode, owner[0], owner[1], restart))

    def users(*names: str) -> Tuple[str, ...]:
        return tuple(units[n] for n in names if n in units)

    secret_mode = 0o644 if party.is_exchange else 0o600
    if set(services) & set(EGGROLL_USERS):
        add(paths.EGGROLL_CONF, "eggroll.properties.j2", secret_mode, account,
            users(*EGGROLL_USERS))
    if "rollsite" in services:
        add(paths.ROUTE_TABLE, "route_table.json.j2", 0o644, account,
            users("rollsite") if ROUTE_TABLE_REREAD_SECONDS is None else ())
        json.loads(files[-1].content)  # the seed shipped invalid JSON more than once
    if set(services) & set(FLOW_CONF_USERS):
        add(paths.BASE_CONF, "base_conf.yaml.j2", 0o600, account, users("fate_flow"))
        add(paths.SERVER_CONF, "server_conf.json.j2", 0o644, account, users("fate_flow"))
        json.loads(files[-1].content)
    if "fateboard" in services:
        add(paths.FATEBOARD_CONF, "application.properties.j2", 0o600, account,
            users("fateboard"))
    if "mysql" in services:
        add(paths.MYSQL_CNF, "my.cnf.j2", 0o644, account, users("mysql"))
    if not party.is_exchange and set(services) & set(EGGROLL_USERS):
        add(paths.INIT_ENV, "init_env.sh.j2", 0o644, account, ())
    for service in services:
        unit = units[service]
        add(f"{paths.ENV_DIR}/{unit}.env", "unit.env.j2", 0o644, ("root", "root"),
            (unit,), {"unit": unit + ".service", "env": env_for(party, service, host, mem_kib)})
    if secrets:
        files.append(FileSpec(paths.SECRETS, dump(secrets), 0o600, "root", "root", ()))
    files.append(FileSpec(paths.APPLIED_PARTY, party_text, 0o600, "root", "root", ()))
    files.append(FileSpec(paths.APPLIED_HOST, host + "\n", 0o644, "root", "root", ()))

    db = None
    if "mysql" in services:
        eggroll_db = ctx["eggroll_db"]
        nodes = [(ip, ctx["clustermanager_port"], "CLUSTER_MANAGER")
                 for ip in party.ips("clustermanager")]
        nodes += [(ip, ctx["nodemanager_port"], "NODE_MANAGER") for ip in party.ips("nodemanager")]
        db = DbPlan(secrets["mysql_root"], ctx["db_user"], secrets["mysql_fate"],
                    database_names(party),
                    tuple(party.db_client_ips()), tuple(nodes), eggroll_db, user)
    wanted = [units[s] for s in services]
    others = [s.unit for s in catalogue.load() if s.name not in services]
    return Plan(
        label=party.label, host=host, services=services, files=tuple(files), db=db,
        enable=tuple(wanted),
        disable=tuple(u for u in others if u in installed_units),
        remove=tuple(f"{paths.ENV_DIR}/{u}.env" for u in others),
        init=init,
        secrets=tuple(sorted({v for v in list(secrets.values()) + [ctx["zk_password"]] if v},
                             key=len, reverse=True)),
    )

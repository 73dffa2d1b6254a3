"""Checks the schema cannot express: hosts, ports, routes, TLS, the external MySQL.

These are the mistakes that, with ansible-nfate, only surfaced once services were
running: a port used twice on one host, a route table pointing at the wrong
fate_flow, ``is_secure`` without certificates, a party whose external MySQL is not
there. Each returns error lines in the validator's format; all are collected.
"""

import os
import socket
from typing import Callable, Dict, List, Optional, Tuple

from packager.onhost import catalogue

from .loader import Document, Path, format_path
from .model import Party

SERVER_TLS = ("ca.pem", "server.pem", "server.key")
CLIENT_TLS = ("client-ca.pem", "client.pem", "client.key")


class Checker:
    def __init__(self, doc: Document, party: Party) -> None:
        self.doc = doc
        self.party = party
        self.errors: List[str] = []

    def error(self, path: Path, message: str) -> None:
        self.errors.append(f"{self.doc.where(path)} {format_path(path)}: {message}")

    # -- structure -------------------------------------------------------------------
    def check_hosts(self) -> None:
        p = self.party
        for service in p.services():
            base = p.path(service) if not p.is_exchange else ("exchange", "rollsite")
            ips = p.ips(service)
            if not ips:
                self.error(base + ("ips",), "missing; list the address of the host running "
                                            f"{service} (or set enable: false)")
                continue
            if catalogue.get(service).one_host and len(ips) > 1:
                self.error(base + ("ips",), f"{len(ips)} addresses, but {service} runs on "
                                            f"exactly one host; "
                                            "keep one")
            for index, ip in enumerate(ips):
                if ips.index(ip) != index:
                    self.error(base + ("ips", index), f"{ip} is listed twice; remove one")

    def check_ports(self) -> None:
        p = self.party
        used: Dict[Tuple[str, int], Path] = {}
        for service in p.services():
            base = p.path(service) if not p.is_exchange else ("exchange", "rollsite")
            for ip in sorted(set(p.ips(service))):
                for key, port in p.ports(service):
                    where = base + (key,)
                    first = used.get((ip, port))
                    if first is not None and first != where:
                        self.error(where, f"port {port} on {ip} is already used by "
                                          f"{format_path(first)} (line {self.doc.line(first)}); "
                                          "choose another port")
                    else:
                        used[(ip, port)] = where

    def check_dependencies(self) -> None:
        p = self.party
        if p.is_exchange:
            return
        deployed = set(p.services())
        available = set(deployed)
        if p.mysql_endpoint() is not None:
            available.add("mysql")  # an external MySQL (enable: false) still serves the party
        for service in sorted(deployed, key=p.services().index):
            for other in catalogue.get(service).needs:
                if other not in available:
                    self.error(p.path(other), f"{service} needs {other}, which this party does "
                                              f"not deploy; "
                                              f"add the `{other}` section with its ips")
        flow_db = p.get("fate_flow", "dbname")
        board_db = p.get("fateboard", "dbname")
        if "fate_flow" in deployed and "fateboard" in deployed and flow_db != board_db:
            self.error(p.path("fateboard") + ("dbname",),
                       f"{board_db!r} differs from fate_flow.dbname {flow_db!r}; fateboard reads "
                       f"fate_flow's "
                       "tables, use the same name")
        zk = p.body.get("zk")
        if isinstance(zk, dict) and zk.get("enable") and not zk.get("lists"):
            self.error(p.path("zk") + ("lists",), "zk is enabled but lists no server; add "
                                                  "`- {ip: ..., port: 2181}` or set enable: false")

    # -- routes ------------------------------------------------------------------------
    def check_routes(self) -> None:
        p = self.party
        if p.is_exchange:
            self.check_exchange_routes()
            return
        rs = p.section("rollsite")
        if rs is None:
            return
        base = p.path("rollsite")
        rules = rs.get("rules")
        if isinstance(rules, list) and rules:
            names = self.route_names(rules, base + ("rules",), ("default", "fateflow"))
            own = (p.first_ip("rollsite"), rs.get("port"))
            if "default" not in names:
                self.error(base + ("rules",), "no `default` entry; add `- {{name: default, ip: {}, "
                                              "port: {}}}` (this party's rollsite)".format(*own))
            else:
                self.match_route(rules, names["default"], base + ("rules",), own,
                                 "rollsite ips[0]/port")
            flow = p.section("fate_flow")
            want = (p.first_ip("fate_flow"), flow.get("grpcPort")) if flow else None
            if "fateflow" not in names:
                if want:
                    self.error(base + ("rules",), "no `fateflow` entry; add `- {{name: fateflow, "
                                                  "ip: {}, port: {}}}` (fate_flow's gRPC "
                                                  "port)".format(*want))
            elif want:
                self.match_route(rules, names["fateflow"], base + ("rules",), want,
                                 "fate_flow ips[0]/grpcPort")
        default_rules = rs.get("default_rules") or []
        self.route_names(default_rules, base + ("default_rules",), ("default",))
        self.check_secure_routes(default_rules, base + ("default_rules",), rs)

    def check_exchange_routes(self) -> None:
        partys = self.party.body.get("partys") or []
        seen: Dict[int, int] = {}
        rs = self.party.section("rollsite") or {}
        for index, entry in enumerate(partys):
            if not isinstance(entry, dict):
                continue
            path = ("exchange", "partys", index)
            pid = entry.get("id")
            if pid in seen:
                self.error(path + ("id",), f"party {pid} is listed twice (also "
                                           f"partys[{seen[pid]}]); keep one entry per party")
            seen.setdefault(pid, index)
            rules = entry.get("rules") or []
            names = self.route_names(rules, path + ("rules",), ("default",))
            if "default" not in names:
                self.error(path + ("rules",), "no `default` entry; add the route to party "
                                              f"{pid}'s rollsite")
            self.check_secure_routes(rules, path + ("rules",), rs)
        if not partys:
            self.error(("exchange", "partys"), "empty; list each party with its `default` route")

    def route_names(self, rules: List[object], path: Path, allowed: Tuple[str, ...]
                    ) -> Dict[str, int]:
        names: Dict[str, int] = {}
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            name = rule.get("name")
            if name not in allowed:
                self.error(path + (index, "name"), "{!r} is not a route name here; use {}".format(
                    name, " or ".join(allowed)))
            elif name in names:
                self.error(path + (index, "name"), f"route {name!r} is listed twice; keep one")
            else:
                names[name] = index
        return names

    def match_route(self, rules: List[dict], index: int, path: Path,
                    want: Tuple[Optional[str], object], what: str) -> None:
        rule = rules[index]
        got = (rule.get("ip"), rule.get("port"))
        if want[0] is not None and got != want:
            self.error(path + (index,), "{} {}:{} does not match {} {}:{}; fix the route or the "
                                        "service".format(rule.get("name"), got[0], got[1], what,
                                                         want[0], want[1]))

    def check_secure_routes(self, rules: List[object], path: Path, rs: Dict[str, object]) -> None:
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict) or not rule.get("is_secure"):
                continue
            if not rs.get("client_secure"):
                self.error(path + (index, "is_secure"),
                           "true, but client_secure is false: rollsite would not use TLS; set "
                           "client_secure: true (and provide the client certificates)")
            if rule.get("port") == rs.get("port"):
                self.error(path + (index, "port"),
                           "{} is a plain rollsite port but is_secure is true; use the peer's "
                           "secure_port (9371)".format(rule.get("port")))

    def check_secure_ports(self) -> None:
        rs = self.party.section("rollsite")
        if not rs or not rs.get("server_secure"):
            return
        base = ("exchange", "rollsite") if self.party.is_exchange else self.party.path("rollsite")
        if rs.get("secure_port") == rs.get("port"):
            self.error(base + ("secure_port",), "equals port {}; the TLS server needs its own "
                                                "port (9371)".format(rs.get("port")))

    def run(self) -> List[str]:
        self.check_hosts()
        self.check_ports()
        self.check_dependencies()
        self.check_routes()
        self.check_secure_ports()
        return self.errors


def check_party(doc: Document, party: Party) -> List[str]:
    """Errors of the party itself, independent of the host running fate-configure."""
    return Checker(doc, party).run()


def tls_files(party: Party, kind: str) -> List[str]:
    """Absolute paths of the server or client TLS files this party's rollsite uses."""
    rs = party.section("rollsite") or {}
    keys_dir = str(rs.get("keys_dir") or "/data/projects/data/fate/keys")
    names = SERVER_TLS if kind == "server" else CLIENT_TLS
    role = party.role
    return [os.path.join(keys_dir, f"{role}-{name}") for name in names]


def tcp_answers(host: str, port: int, timeout: float = 3.0) -> Optional[str]:
    """None if ``host:port`` accepts a TCP connection, else the reason."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def check_host(doc: Document, party: Party, services: List[str], prefix: Callable[[str], str],
               probe: Callable[[str, int], Optional[str]] = tcp_answers) -> List[str]:
    """Errors that depend on this host: its certificates, the external MySQL."""
    errors: List[str] = []
    base = ("exchange", "rollsite") if party.is_exchange else party.path("rollsite")
    rs = party.section("rollsite") or {}
    if "rollsite" in services:
        for flag, kind in (("server_secure", "server"), ("client_secure", "client")):
            if not rs.get(flag):
                continue
            missing = [p for p in tls_files(party, kind) if not os.access(prefix(p), os.R_OK)]
            if missing:
                where = base + (flag,)
                errors.append(f"{doc.where(where)} {format_path(where)}: true, but "
                              f"{', '.join(missing)} missing or unreadable; put the {kind} "
                              f"certificate files there or set {flag}: false")
    mysql = party.body.get("mysql") if not party.is_exchange else None
    if isinstance(mysql, dict) and mysql.get("enable") is False and mysql.get("ips") and \
            any(catalogue.get(s).needs_db for s in services):
        ip, port = mysql["ips"][0], mysql.get("port", 3306)
        reason = probe(ip, port)
        if reason is not None:
            path = party.path("mysql") + ("enable",)
            errors.append(f"{doc.where(path)} {format_path(path)}: false (external MySQL), but "
                          f"{ip}:{port} does not answer ({reason}); start "
                          "that server or set enable: true")
    return errors

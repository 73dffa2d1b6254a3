"""Who gets what: per host of the party, its services, units, RPMs and ports, and the
start stages across hosts. Pure functions of the party and the service catalogue."""

from typing import Dict, List, NamedTuple, Sequence

from packager.onhost import catalogue
from packager.onhost.catalogue import Service
from packager.onhost.configure.model import Party

#: Every host gets the tools that drive it (fate-configure, fate-ctl, fate-waitport).
ALWAYS = ("fate-tools",)


class HostPlan(NamedTuple):
    address: str
    services: List[str]      # catalogue names, in start order
    units: List[str]         # fate-* unit names (no .service)
    packages: List[str]      # RPM names given to install.sh (yum adds their requires)
    ports: List[int]         # the party's ports of this host's services
    stage_units: Dict[int, List[str]]  # start stage -> this host's units of it
    stage_ports: Dict[int, List[int]]  # start stage -> the ports those units open


class Stage(NamedTuple):
    number: int
    services: List[str]
    hosts: List[str]


class DeployPlan(NamedTuple):
    label: str
    hosts: List[HostPlan]
    stages: List[Stage]
    mysql_host: str          # "" when MySQL is external (mysql.enable: false)
    flow_host: str           # "" when the party runs no fate_flow (an exchange)
    nodemanagers: List[str]  # the hosts running a nodemanager

    def host(self, address: str) -> HostPlan:
        return next(h for h in self.hosts if h.address == address)


def party_ports(party: Party, svc: Service) -> List[int]:
    """The ports the party YAML gives a service (the catalogue's keys and defaults)."""
    section = party.section(svc.name) or {}
    ports = [int(section.get(p.key, p.number)) for p in svc.port_specs]
    secure = svc.secure_port
    if secure and section.get("server_secure") and isinstance(section.get(secure.key), int):
        ports.append(int(section[secure.key]))
    return ports


def make_plan(party: Party, services: Sequence[Service] = ()) -> DeployPlan:
    services = list(services) or catalogue.load()   # in start order
    ordered = [s for s in services if party.section(s.name) is not None]
    hosts = []
    for address in party.all_ips():
        here = [s for s in ordered if address in party.ips(s.name)]
        packages: List[str] = []
        for name in [p for s in here for p in s.packages] + list(ALWAYS):
            if name not in packages:
                packages.append(name)
        ports = [p for s in here for p in party_ports(party, s)]
        stage_units: Dict[int, List[str]] = {}
        stage_ports: Dict[int, List[int]] = {}
        for svc in here:
            stage_units.setdefault(svc.stage, []).append(svc.unit)
            stage_ports.setdefault(svc.stage, []).extend(party_ports(party, svc))
        hosts.append(HostPlan(address, [s.name for s in here], [s.unit for s in here],
                              packages, ports, stage_units, stage_ports))
    stages: List[Stage] = []
    for number in sorted({s.stage for s in ordered}):
        names = [s.name for s in ordered if s.stage == number]
        on = [h.address for h in hosts if set(names) & set(h.services)]
        stages.append(Stage(number, names, on))
    return DeployPlan(party.label, hosts, stages, party.first_ip("mysql") or "",
                      party.first_ip("fate_flow") or "",
                      [h.address for h in hosts if "nodemanager" in h.services])

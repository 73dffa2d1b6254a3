"""A validated party, with the questions the rest of fate-configure asks of it.

``Party`` wraps the schema-checked data (defaults filled in) so that "which hosts run
fate_flow" or "which services does 192.168.0.2 run" are answered in one place.
A section that is absent means the service is not deployed by this party; inside a
present section ``enable`` defaults to true, as in the seed's var files.
"""

from typing import Any, Dict, List, Optional, Tuple

from packager.onhost import catalogue

#: Service names (party YAML sections) in start order, from the service catalogue.
SERVICE_ORDER: Tuple[str, ...] = catalogue.names()


class Party:
    """One party (guest / host) or an exchange-only site."""

    def __init__(self, data: Dict[str, Any]) -> None:
        self.role: str = next(iter(data))
        self.body: Dict[str, Any] = data[self.role]

    @property
    def is_exchange(self) -> bool:
        return self.role == "exchange"

    @property
    def partyid(self) -> Optional[int]:
        return None if self.is_exchange else self.body.get("partyid")

    @property
    def label(self) -> str:
        return "exchange" if self.is_exchange else f"{self.role} {self.partyid}"

    def section(self, service: str) -> Optional[Dict[str, Any]]:
        """The service's settings if it is deployed (present and enabled), else None."""
        if self.is_exchange:
            if service != "rollsite" or not self.body.get("enable", True):
                return None
            return self.body.get("rollsite")
        sec = self.body.get(service)
        if not isinstance(sec, dict) or not sec.get("enable", True):
            return None
        return sec

    def path(self, service: str) -> Tuple[str, ...]:
        """Key path of a service section, for error messages."""
        return (self.role, service)

    def ips(self, service: str) -> List[str]:
        sec = self.section(service)
        ips = sec.get("ips") if sec else None
        return list(ips) if isinstance(ips, list) else []

    def first_ip(self, service: str) -> Optional[str]:
        ips = self.ips(service)
        return ips[0] if ips else None

    def services(self) -> List[str]:
        """Deployed services, in start order."""
        return [s for s in SERVICE_ORDER if self.section(s) is not None]

    def services_on(self, ip: str) -> List[str]:
        """Services that the host with address ``ip`` runs, in start order."""
        return [s for s in self.services() if ip in self.ips(s)]

    def all_ips(self) -> List[str]:
        seen: List[str] = []
        for service in self.services():
            for ip in self.ips(service):
                if ip not in seen:
                    seen.append(ip)
        return seen

    def ports(self, service: str) -> List[Tuple[str, int]]:
        """(key, port) pairs the service listens on."""
        sec = self.section(service) or {}
        svc = catalogue.get(service)
        out = [(key, sec[key]) for key in svc.port_keys if isinstance(sec.get(key), int)]
        secure = svc.secure_port.key if svc.secure_port else None
        if secure and sec.get("server_secure") and isinstance(sec.get(secure), int) and \
                sec.get(secure) != sec.get("port"):  # equal ports: reported on their own
            out.append((secure, sec[secure]))
        return out

    def db_client_ips(self) -> List[str]:
        """Hosts that log in to MySQL: each needs its own fate@<ip> account."""
        seen: List[str] = []
        for service in self.services():
            if catalogue.get(service).needs_db:
                for ip in self.ips(service):
                    if ip not in seen:
                        seen.append(ip)
        return seen

    def mysql_endpoint(self) -> Optional[Tuple[str, int]]:
        """Where the party's MySQL answers: its own (enable: true) or an external one."""
        mysql = None if self.is_exchange else self.body.get("mysql")
        if not isinstance(mysql, dict) or not mysql.get("ips"):
            return None
        return mysql["ips"][0], int(mysql.get("port", 3306))

    def get(self, service: str, key: str, default: Any = None) -> Any:
        sec = self.body.get(service)
        if isinstance(sec, dict):
            return sec.get(key, default)
        return default

    @property
    def process_tag(self) -> str:
        tag = self.get("eggroll", "process_tag")
        return tag or f"fate-{self.role}"

"""Party YAML documents for the e2e scenarios, in ansible-nfate's vocabulary (the format
fate-configure reads; see bundles/party.yaml.example)."""

from __future__ import annotations

import yaml

ROLES = ("rollsite", "clustermanager", "nodemanager", "fate_flow", "fateboard", "mysql")


def party(partyid: int, ips: dict[str, list[str]], *, role: str = "guest",
          peer: tuple[str, int] | None = None) -> str:
    """One party: ``ips`` maps each service to its hosts; ``peer`` = the rollsite that every
    other party is reached through (default_rules), absent for a party alone."""
    rs = ips["rollsite"][0]
    doc: dict = {
        "partyid": partyid,
        "rollsite": {"ips": ips["rollsite"], "port": 9370},
        "clustermanager": {"ips": ips["clustermanager"], "port": 4670},
        "nodemanager": {"ips": ips["nodemanager"], "port": 4671},
        "fate_flow": {"ips": ips["fate_flow"], "grpcPort": 9360, "httpPort": 9380},
        "fateboard": {"ips": ips["fateboard"], "port": 8080},
        "mysql": {"ips": ips["mysql"], "port": 3306},
    }
    if peer is not None:
        doc["rollsite"]["default_rules"] = [
            {"name": "default", "ip": peer[0], "port": peer[1], "is_secure": False}]
    doc["rollsite"]["rules"] = [{"name": "default", "ip": rs, "port": 9370},
                                {"name": "fateflow", "ip": ips["fate_flow"][0], "port": 9360}]
    return yaml.safe_dump({role: doc}, sort_keys=False)


def all_in_one(partyid: int, ip: str, **kw) -> str:
    return party(partyid, {r: [ip] for r in ROLES}, **kw)

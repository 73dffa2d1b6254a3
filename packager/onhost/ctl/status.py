"""``fate-ctl status``: for each FATE service of this host, state, ports, last error."""

import json
import os
from typing import Dict, List, Optional

from packager.onhost import probe, systemctl
from packager.onhost.catalogue import Service
from packager.onhost.configure import paths
from packager.onhost.configure.errors import ConfigError
from packager.onhost.configure.pipeline import load_party
from packager.onhost.ctl.host import Host
from packager.onhost.ctl.logscan import last_error, log_files

_HEALTHY = {"active", "running", "active/running"}


#: How a port's probe result reads in the table (probe.ANSWERING ...).
_SHOWN = {probe.ANSWERING: "up", probe.NOT_ANSWERING: "not answering", probe.DOWN: "DOWN"}


def service_status(host: Host, svc: Service) -> Dict[str, object]:
    """The service's state, and for each port what its own protocol got back: ``up``, or
    ``not answering`` (it accepts a connection but does not answer as the service would),
    or ``DOWN`` (nothing accepts)."""
    ports = []
    for endpoint in host.listen_endpoints(svc):
        result = host.probe(endpoint)
        ports.append({"endpoint": str(endpoint._replace(protocol="tcp")),
                      "protocol": endpoint.protocol, "probe": result,
                      "answering": result == probe.ANSWERING})
    error = last_error(log_files(svc, host.path))
    state = host.state(svc)
    return {
        "service": svc.unit,
        "program": svc.program,
        "state": state,
        "ports": ports,
        "last_error": {"file": error[0], "line": error[1]} if error else None,
        "healthy": state in _HEALTHY and all(p["answering"] for p in ports),
    }


def services_here(host: Host) -> List[Service]:
    """Configured services; without any env file, those whose unit is installed, so a
    freshly installed host still shows something useful."""
    configured = host.configured()
    if configured:
        return configured
    return [s for s in host.services
            if host.manager == "systemd" and (systemctl.show(s.unit_file, ["LoadState"]) or {})
            .get("LoadState") == "loaded"]


def collect(host: Host) -> List[Dict[str, object]]:
    return [service_status(host, svc) for svc in services_here(host)]


def partition_hint(host: Host) -> Optional[Dict[str, int]]:
    """Seed §7.1: partitions = egg processes per node x nodemanagers, from the rendered
    eggroll.properties and the applied party (None where either is missing)."""
    conf, party_file = host.path(paths.EGGROLL_CONF), host.path(paths.APPLIED_PARTY)
    if not (os.path.isfile(conf) and os.path.isfile(party_file)):
        return None
    per_node = None
    with open(conf, encoding="utf-8") as handle:
        for line in handle:
            key, sep, value = line.partition("=")
            if sep and key.strip() == "eggroll.session.processors.per.node":
                per_node = int(value.strip()) if value.strip().isdigit() else None
    try:
        nodes = len(load_party(party_file)[1].ips("nodemanager"))
    except ConfigError:
        return None
    if not per_node or not nodes:
        return None
    return {"processors_per_node": per_node, "nodemanagers": nodes,
            "partitions": per_node * nodes}


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_table(rows: List[Dict[str, object]]) -> str:
    header = ("SERVICE", "STATE", "PORTS", "LAST ERROR")
    body = []
    for row in rows:
        ports = " ".join("{}{} {}".format("" if p["protocol"] == "tcp" else p["protocol"] + "://",
                                          p["endpoint"], _SHOWN[p["probe"]])
                         for p in row["ports"])  # type: ignore
        err = row["last_error"]
        body.append((str(row["service"]), str(row["state"]), ports,
                     _shorten(err["line"], 90) if err else "-"))  # type: ignore
    widths = [max(len(r[i]) for r in [header] + body) for i in range(3)]
    lines = []
    for r in [header] + body:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    return "\n".join(line.rstrip() for line in lines)


def run(host: Host, as_json: bool) -> int:
    rows = collect(host)
    if not rows:
        message = (f"no FATE services on this host (no env files in {host.env_dir}; run "
                   "fate-configure)")
        if as_json:
            print(json.dumps({"manager": host.manager, "services": [], "error": message},
                             indent=2, sort_keys=True))
        else:
            print("fate-ctl: " + message)
        return 1
    hint = partition_hint(host)
    if as_json:
        print(json.dumps({"manager": host.manager, "services": rows, "eggroll": hint},
                         indent=2, sort_keys=True))
    else:
        print(format_table(rows))
        if hint:
            print("eggroll: {processors_per_node} egg processes per node x {nodemanagers} "
                  "nodemanager(s): use partition {partitions} for a job's tables "
                  "(seed §7.1)".format(**hint))
    return 0 if all(r["healthy"] for r in rows) else 1

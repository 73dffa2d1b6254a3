"""``fate-ctl status``: for each FATE service of this host, state, ports, last error."""

import json
from typing import Dict, List

from packager.onhost import systemctl
from packager.onhost.catalogue import Service
from packager.onhost.ctl.host import Host
from packager.onhost.ctl.logscan import last_error, log_files

_HEALTHY = {"active", "running", "active/running"}


def _endpoint(host: str, port: int) -> str:
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def service_status(host: Host, svc: Service) -> Dict[str, object]:
    ports = [{"endpoint": _endpoint(h, p), "answering": host.answers((h, p))}
             for h, p in host.listen_endpoints(svc)]
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


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_table(rows: List[Dict[str, object]]) -> str:
    header = ("SERVICE", "STATE", "PORTS", "LAST ERROR")
    body = []
    for row in rows:
        ports = " ".join("{} {}".format(p["endpoint"], "up" if p["answering"] else "DOWN")
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
        print(f"fate-ctl: no FATE services on this host (no env files in {host.env_dir}; "
              "run fate-configure)")
        return 1
    if as_json:
        print(json.dumps({"manager": host.manager, "services": rows}, indent=2, sort_keys=True))
    else:
        print(format_table(rows))
    return 0 if all(r["healthy"] for r in rows) else 1

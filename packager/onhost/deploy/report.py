"""The summary at the end of a run: per host its services, their state and ports, what
changed, where it failed; the toy example's result; as a table or as JSON."""

import json
from typing import Dict, List, Optional

from .plan import DeployPlan
from .run import RunResult


def _text(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else json.dumps(value)


def host_report(result: RunResult, host: str) -> Dict[str, str]:
    """What the roles printed as ``fate_report`` for one host: ``preflight`` (its output),
    ``check`` (fate-configure --check --diff), ``status`` (fate-ctl status --json; Ansible
    may hand it over parsed), ``toy`` (its stdout and stderr)."""
    found = result.reports.get(host, {})
    out = {k: _text(found.get(k)) for k in ("preflight", "check", "status", "toy")}
    out["toy"] = "\n".join(t for t in (out["toy"], _text(found.get("toy_stderr"))) if t)
    return out


def preflight_findings(result: RunResult) -> Dict[str, List[str]]:
    return {host: [line for line in host_report(result, host)["preflight"].splitlines()
                   if line.startswith(("error:", "warning:"))] for host in result.reports}


def preflight_cpus(result: RunResult) -> Dict[str, int]:
    """Each host's CPU count as its pre-flight said it ("ok: cpus N")."""
    out: Dict[str, int] = {}
    for host in result.reports:
        for line in host_report(result, host)["preflight"].splitlines():
            words = line.split()
            if words[:2] == ["ok:", "cpus"] and len(words) == 3 and words[2].isdigit() \
                    and int(words[2]) > 0:
                out[host] = int(words[2])
    return out


def toy_result(result: RunResult, host: str) -> Optional[Dict[str, str]]:
    text = host_report(result, host)["toy"].strip()
    if not text:
        return None
    lines = [line for line in text.splitlines() if line.startswith("toy:")]
    success = [line for line in lines if line.startswith("toy: success")]
    return {"host": host, "ok": "yes" if success else "no",
            "line": (success or lines or ["no output"])[-1]}


def collect(plan: DeployPlan, result: RunResult, check: bool, retired: List[str]) -> dict:
    hosts: Dict[str, dict] = {}
    findings = preflight_findings(result)
    for address in [h.address for h in plan.hosts] + retired:
        status_text = host_report(result, address)["status"]
        try:
            services = json.loads(status_text)["services"] if status_text else []
        except (ValueError, KeyError):
            services = []
        failure = result.failures.get(address)
        recap = result.recap.get(address)
        hosts[address] = {
            "services": [{"service": s["service"], "state": s["state"],
                          "ports": [p["endpoint"] for p in s["ports"]],
                          "answering": all(p["answering"] for p in s["ports"]),
                          "healthy": s["healthy"]} for s in services],
            "planned": plan.host(address).units if address not in retired else [],
            "retired": address in retired,
            "changed": recap.changed if recap else 0,
            "changed_tasks": result.changed.get(address, []),
            "unreachable": bool(recap and recap.unreachable),
            "failed": None if failure is None else {
                "play": failure.play, "task": failure.task, "message": failure.message,
                "unreachable": failure.unreachable},
            "preflight": findings.get(address, []),
            "check": host_report(result, address)["check"] if check else None,
        }
    toy = toy_result(result, plan.flow_host) if plan.flow_host else None
    ok = result.returncode == 0 and not result.failures
    return {"ok": ok, "check": check, "party": plan.label, "hosts": hosts, "toy": toy,
            "changed": sum(h["changed"] for h in hosts.values()), "log": result.log}


def first_failure(summary: dict) -> Optional[str]:
    """One line naming the host and the step that failed first (not the hosts that only
    stopped because another one failed)."""
    lines = []
    for host, row in summary["hosts"].items():
        failed = row["failed"]
        if failed and "every host of the party passed" not in failed["task"]:
            kind = "unreachable" if failed["unreachable"] else "failed"
            lines.append(f"{host} {kind} at '{failed['play']}' / '{failed['task']}': "
                         f"{failed['message']}")
    return "; ".join(lines) or None


def table(summary: dict) -> str:
    rows = [("HOST", "SERVICE", "STATE", "PORTS", "CHANGED")]
    for host, row in summary["hosts"].items():
        changed = str(row["changed"])
        if row["retired"]:
            rows.append((host, "(left the party)", "stopped", "-", changed))
            continue
        if not row["services"]:
            state = "unreachable" if row["unreachable"] else (
                "failed" if row["failed"] else "not configured")
            rows.append((host, " ".join(row["planned"]), state, "-", changed))
            continue
        for index, svc in enumerate(row["services"]):
            ports = " ".join(svc["ports"]) + ("" if svc["answering"] else " (DOWN)")
            rows.append((host if index == 0 else "", svc["service"], svc["state"], ports,
                         changed if index == 0 else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
    toy = summary["toy"]
    if toy:
        lines.append(f"toy example on {toy['host']}: {toy['line']}")
    return "\n".join(line.rstrip() for line in lines)

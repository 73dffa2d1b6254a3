"""The summary at the end of a run: per host its services, their state and ports, what
changed, where it failed; the toy example's result; as a table or as JSON."""

import glob
import json
import os
from typing import Dict, List, Optional

from .plan import DeployPlan
from .run import RunResult


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def _preflight_texts(results: str) -> Dict[str, str]:
    """Each host's pre-flight output: its own file when it stopped the run, else the
    report play's file."""
    out: Dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(results, "report-*.json"))):
        host = os.path.basename(path)[len("report-"):-len(".json")]
        out[host] = host_report(results, host)["preflight"]
    for path in sorted(glob.glob(os.path.join(results, "preflight-*.txt"))):
        out[os.path.basename(path)[len("preflight-"):-len(".txt")]] = _read(path)
    return out


def preflight_findings(results: str) -> Dict[str, List[str]]:
    return {host: [line for line in text.splitlines()
                   if line.startswith(("error:", "warning:"))]
            for host, text in _preflight_texts(results).items()}


def preflight_cpus(results: str) -> Dict[str, int]:
    """Each host's CPU count as its pre-flight said it ("ok: cpus N")."""
    out: Dict[str, int] = {}
    for host, text in _preflight_texts(results).items():
        for line in text.splitlines():
            words = line.split()
            if words[:2] == ["ok:", "cpus"] and len(words) == 3 and words[2].isdigit() \
                    and int(words[2]) > 0:
                out[host] = int(words[2])
    return out


def host_report(results: str, host: str) -> Dict[str, str]:
    """The report role's file of one host: fate-ctl status --json and the toy's output."""
    try:
        data = json.loads(_read(os.path.join(results, f"report-{host}.json")) or "{}")
    except ValueError:
        data = {}
    keys = ("status", "toy", "toy_stderr", "preflight")
    data = data if isinstance(data, dict) else {}
    out = {k: str(data.get(k) or "") for k in keys}
    out["toy"] = "\n".join(t for t in (out["toy"], out.pop("toy_stderr")) if t)
    return out


def toy_result(results: str, host: str) -> Optional[Dict[str, str]]:
    text = host_report(results, host)["toy"].strip()
    if not text:
        return None
    lines = [line for line in text.splitlines() if line.startswith("toy:")]
    success = [line for line in lines if line.startswith("toy: success")]
    return {"host": host, "ok": "yes" if success else "no",
            "line": (success or lines or ["no output"])[-1]}


def collect(plan: DeployPlan, result: RunResult, results: str, check: bool,
            retired: List[str]) -> dict:
    hosts: Dict[str, dict] = {}
    findings = preflight_findings(results)
    for address in [h.address for h in plan.hosts] + retired:
        status_text = host_report(results, address)["status"]
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
            "check": _read(os.path.join(results, f"check-{address}.txt")) if check else None,
        }
    toy = toy_result(results, plan.flow_host) if plan.flow_host else None
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

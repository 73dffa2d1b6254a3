"""``fate-ctl toy``: run FATE's toy example for this party and say plainly what happened.

The toy (examples/toy_example/run_toy_example.py) submits a secure-add job through fate_flow
and polls it for 100 s. Its own output is hard to read when it fails: a failed job still
exits 0 after printing the error log, and a hang says only "job running time exceed". So we
check first that every service this host runs and everything it waits for answers (naming
the one that does not, e.g. "rollsite 9370 not answering on 10.0.0.2"), then run the toy
as FATE's docs do, and classify the result.
"""

import os
import shlex
import subprocess
from typing import List, Optional, Tuple

from packager.onhost import probe
from packager.onhost.ctl.host import Endpoint, Host

SUCCESS_MARK = "success to calculate secure_sum"
TOY_DIR = "python/examples/toy_example"
TOY_SCRIPT = "run_toy_example.py"


class ToyResult:
    def __init__(self, ok: bool, summary: str, details: Optional[List[str]] = None) -> None:
        self.ok = ok
        self.summary = summary
        self.details = details or []


def local_party_id(host: Host) -> Optional[str]:
    """This party's id from eggroll.properties (eggroll.rollsite.party.id)."""
    path = host.path(os.path.join(host.fate_home, "eggroll/conf/eggroll.properties"))
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                key, sep, value = line.partition("=")
                if sep and key.strip() == "eggroll.rollsite.party.id" and value.strip():
                    return value.strip()
    except OSError:
        return None
    return None


def unreachable(host: Host) -> List[str]:
    """Every endpoint the toy needs, from this host's point of view, that does not answer:
    what local services listen on and what they wait for (remote MySQL, eggroll, ...)."""
    problems: List[str] = []
    seen: set = set()
    checks: List[Tuple[str, Endpoint]] = []
    for svc in host.configured():
        for endpoint in host.listen_endpoints(svc):
            checks.append((svc.name, endpoint))
        for endpoint in host.wait_endpoints(svc):
            owner = host.service_for_port(endpoint.port)
            checks.append((owner.name if owner else "dependency of " + svc.name, endpoint))
    for name, endpoint in checks:
        if endpoint in seen:
            continue
        seen.add(endpoint)
        result = host.probe(endpoint)
        why = {probe.DOWN: "nothing accepts",
               probe.NOT_ANSWERING: f"it accepts but gives no {endpoint.protocol} answer"}
        if result != probe.ANSWERING:
            problems.append(f"{name} {endpoint.port} not answering on {endpoint.host} "
                            f"({why[result]})")
    return problems


def classify(returncode: int, output: str, timed_out: bool) -> ToyResult:
    lines = [line for line in output.splitlines() if line.strip()]
    if timed_out:
        return ToyResult(False, "the toy did not finish in time (fate-ctl --timeout)", lines[-20:])
    success = [line for line in lines if SUCCESS_MARK in line]
    if returncode == 0 and success:
        return ToyResult(True, success[-1].strip())
    text = output
    if "job running time exceed" in text:
        return ToyResult(False, "the job did not finish within the toy's 100 s: federation "
                         "(rollsite, route table, the peer party) or eggroll is not working",
                         lines[-20:])
    if "failed to exec task" in text:
        return ToyResult(False, "fate_flow did not accept the job (submit_job failed)", lines[-20:])
    if "Can not download logs from fate_flow" in text:
        return ToyResult(False, "the job ended but its logs could not be fetched from fate_flow",
                         lines[-20:])
    if returncode == 0:
        return ToyResult(False, "the job failed; its ERROR.log is below", lines[-20:])
    return ToyResult(False, f"run_toy_example.py exited with status {returncode}", lines[-20:])


def run(
    host: Host,
    guest: Optional[str],
    party_host: Optional[str],
    timeout: float,
    force: bool,
    out_print: object = print,
) -> int:
    toy_dir = host.path(os.path.join(host.fate_home, TOY_DIR))
    init_env = host.path(os.path.join(host.fate_home, "init_env.sh"))
    for needed in (init_env, os.path.join(toy_dir, TOY_SCRIPT)):
        if not os.path.isfile(needed):
            out_print(f"toy: FAILED: {needed} is missing (is FATE installed on this host?)")
            return 1
    guest = guest or local_party_id(host)
    if not guest:
        out_print("toy: FAILED: no guest party id given and none in eggroll.properties "
                  "(eggroll.rollsite.party.id)")
        return 2
    party_host = party_host or guest
    problems = unreachable(host)
    if problems and not force:
        for problem in problems:
            out_print(f"toy: FAILED: {problem}")
        out_print("toy: not started (use --force to run it anyway)")
        return 1
    script = (f"source {_sh(init_env)} && cd {_sh(toy_dir)} && "
              f"python {TOY_SCRIPT} {_sh(guest)} {_sh(party_host)} 1")
    out_print(f"toy: guest {guest}, host {party_host}: {script}")
    timed_out = False
    try:
        proc = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, encoding="utf-8", errors="replace",
                              timeout=timeout)
        returncode, output = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as exc:
        timed_out, returncode = True, -1
        output = exc.stdout.decode("utf-8", "replace") if isinstance(exc.stdout, bytes) \
            else (exc.stdout or "")
    result = classify(returncode, output, timed_out)
    if result.ok:
        out_print(f"toy: success: {result.summary}")
        return 0
    out_print(f"toy: FAILED: {result.summary}")
    for problem in unreachable(host):
        out_print(f"toy: FAILED: {problem}")
    for line in result.details:
        out_print("  | " + line)
    return 1


def _sh(word: str) -> str:
    return shlex.quote(word)

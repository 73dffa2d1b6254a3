"""``fate-waitport``: wait until ports answer in their protocol, then exit 0 (or exec).

systemd 219 has no readiness protocol that FATE's Java and Python servers speak, and
``After=`` alone only orders *process starts*: fate_flow then starts while eggroll is still
binding its ports and hangs (FATE#1373). So each unit runs this helper twice: in
``ExecStartPre`` for what it needs (``$FATE_WAIT_FOR``, possibly on other hosts, e.g. a
remote MySQL) and in ``ExecStartPost`` for what it opens (``$FATE_LISTEN``): the unit is
"started" only when its ports answer (packager/onhost/probe.py: HTTP, the MySQL handshake,
the HTTP/2 preface, TLS), and the next stage starts after that; if the main process
($MAINPID) dies meanwhile, the wait ends at once and systemd's restart follows. Under supervisor
(no ExecStartPre, no per-program ulimits) ``-- COMMAND`` waits, raises the limits and execs.

Exit codes: 0 all answered, 1 timed out or the main process exited (the message says which
and names what did not answer), 2 bad usage.
"""

import argparse
import json
import os
import sys
import time
from typing import List, Optional, Sequence

from packager.onhost import __version__, probe

try:
    import resource
except ImportError:  # pragma: no cover - not on Linux
    resource = None  # type: ignore

Endpoint = probe.Endpoint
parse_endpoint = probe.parse_endpoint


class MainProcessGone(Exception):
    """The unit's main process exited while we waited for its ports."""


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not: it exited, systemd has not reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X", "")


def wait_for(
    endpoints: Sequence[Endpoint],
    timeout: float,
    interval: float = 0.5,
    name: str = "",
    progress_every: float = 15.0,
    out: object = sys.stderr,
    main_pid: Optional[int] = None,
) -> List[Endpoint]:
    """Poll until every endpoint answers or ``timeout`` seconds pass; returns those that
    never answered (empty = success). Prints what it still waits for now and then, so the
    journal shows progress during a long start. With ``main_pid`` (the unit's $MAINPID in
    ExecStartPost) it stops as soon as that process is gone: its ports will not come, and
    systemd's restart should not wait for our timeout (MainProcessGone)."""
    deadline = time.monotonic() + timeout
    pending = list(endpoints)
    last_note = time.monotonic()
    label = (name + ": ") if name else ""
    while True:
        if main_pid and not process_alive(main_pid):
            raise MainProcessGone(main_pid)
        pending = [ep for ep in pending
                   if not probe.answers(ep, timeout=min(1.0, interval * 2))]
        if not pending:
            return []
        now = time.monotonic()
        if now >= deadline:
            return pending
        if now - last_note >= progress_every:
            print("{}waiting for {}".format(label, " ".join(_fmt(ep) for ep in pending)),
                  file=out, flush=True)
            last_note = now
        time.sleep(min(interval, max(0.0, deadline - now)))


def _fmt(endpoint: Endpoint) -> str:
    return str(endpoint)


def raise_limits(nofile: Optional[int], nproc: Optional[int], out: object = sys.stderr) -> None:
    """Raise soft limits toward what the systemd units set (LimitNOFILE/LimitNPROC): an
    unprivileged process can go up to its hard limit only, and says so if that is lower."""
    if resource is None:
        return
    for label, which, want in (("open files", resource.RLIMIT_NOFILE, nofile),
                               ("processes", resource.RLIMIT_NPROC, nproc)):
        if not want:
            continue
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY and hard < want:
            try:
                resource.setrlimit(which, (want, want))
                continue
            except (ValueError, OSError):
                print(f"fate-waitport: warning: {label} limit is {hard}, wanted {want} "
                      "(raise it in /etc/security/limits.conf or supervisord's "
                      "minfds/minprocs)", file=out)
                want = hard
        if soft == resource.RLIM_INFINITY or soft >= want:
            continue
        resource.setrlimit(which, (want, hard))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fate-waitport",
        description="Wait until every [PROTOCOL://]HOST:PORT answers in its protocol "
                    "(tcp, http, mysql, grpc, grpc-tls; tcp: a connect is enough).",
        epilog="examples:\n"
               "  fate-waitport --timeout 60 mysql://10.0.0.2:3306 grpc://127.0.0.1:4670\n"
               "  fate-waitport --main-pid 4242 http://127.0.0.1:9380   (give up if 4242 exits)\n"
               "  fate-waitport --timeout 5 --json http://127.0.0.1:9380\n"
               "  fate-waitport 10.0.0.2:3306 -- /usr/bin/java -jar app.jar   (wait, then exec)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("endpoints", nargs="*", metavar="[PROTOCOL://]HOST:PORT")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="give up after this many seconds (default 120)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    parser.add_argument("--name", default="", help="label for messages (the unit name)")
    parser.add_argument("--nofile", type=int, help="raise RLIMIT_NOFILE before exec")
    parser.add_argument("--nproc", type=int, help="raise RLIMIT_NPROC before exec")
    parser.add_argument("--main-pid", default="", metavar="PID",
                        help="stop waiting when this process is gone (units pass "
                             "--main-pid=${MAINPID}; empty: no such check)")
    parser.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout (before any exec)")
    parser.add_argument("--version", action="version", version=f"fate-waitport {__version__}")
    return parser


def _report(targets: Sequence[Endpoint], missing: Sequence[Endpoint], seconds: float,
            timeout: float) -> None:
    print(json.dumps({"ok": not missing, "exit_code": 1 if missing else 0,
                      "seconds": round(seconds, 2), "timeout": timeout,
                      "endpoints": [{"endpoint": _fmt(ep), "answering": ep not in missing}
                                    for ep in targets]}, indent=2, sort_keys=True), flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command: List[str] = []
    if "--" in args_list:
        cut = args_list.index("--")
        args_list, command = args_list[:cut], args_list[cut + 1:]
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        targets = [parse_endpoint(item) for item in args.endpoints]
    except ValueError as exc:
        print(f"fate-waitport: error: {exc}", file=sys.stderr)
        return 2
    if args.timeout <= 0 or args.interval <= 0:
        print("fate-waitport: error: --timeout and --interval must be positive", file=sys.stderr)
        return 2
    if "--" in (argv if argv is not None else sys.argv[1:]) and not command:
        print("fate-waitport: error: nothing to run after --", file=sys.stderr)
        return 2
    if args.main_pid and not args.main_pid.isdigit():
        print(f"fate-waitport: error: --main-pid needs a process id, not {args.main_pid!r}",
              file=sys.stderr)
        return 2
    label = args.name or "fate-waitport"
    started = time.monotonic()
    try:
        missing = wait_for(targets, args.timeout, args.interval, name=label,
                           main_pid=int(args.main_pid) if args.main_pid else None)
    except MainProcessGone:
        print(f"{label}: main process {args.main_pid} exited after "
              f"{time.monotonic() - started:.1f}s; not waiting for its ports",
              file=sys.stderr, flush=True)
        return 1
    if args.json:
        _report(targets, missing, time.monotonic() - started, args.timeout)
    if missing:
        down = " ".join(_fmt(ep) for ep in missing)
        print(f"{label}: not answering after {int(args.timeout)}s: {down}",
              file=sys.stderr, flush=True)
        return 1
    if targets and not args.json:
        up = " ".join(_fmt(ep) for ep in targets)
        print(f"{label}: {up} answering after {time.monotonic() - started:.1f}s",
              file=sys.stderr, flush=True)
    if command:
        raise_limits(args.nofile, args.nproc)
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            print(f"fate-waitport: error: cannot run {command[0]}: {exc.strerror}",
                  file=sys.stderr)
            return 127
    return 0


if __name__ == "__main__":
    sys.exit(main())

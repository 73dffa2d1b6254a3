"""``fate-waitport``: wait until TCP ports answer, then exit 0 (or exec a command).

systemd 219 has no readiness protocol that FATE's Java and Python servers speak, and
``After=`` alone only orders *process starts*: fate_flow then starts while eggroll is still
binding its ports and hangs (FATE#1373). So each unit runs this helper twice: in
``ExecStartPre`` for what it needs (``$FATE_WAIT_FOR``, possibly on other hosts, e.g. a
remote MySQL) and in ``ExecStartPost`` for what it opens (``$FATE_LISTEN``): the unit is
"started" only when its ports answer, and the next stage starts after that. Under supervisor
(no ExecStartPre, no per-program ulimits) ``-- COMMAND`` waits, raises the limits and execs.

Exit codes: 0 all answered, 1 timed out (the message names what did not answer), 2 bad usage.
"""

import argparse
import json
import os
import socket
import sys
import time
from typing import List, Optional, Sequence, Tuple

from packager.onhost import __version__

try:
    import resource
except ImportError:  # pragma: no cover - not on Linux
    resource = None  # type: ignore

Endpoint = Tuple[str, int]


def parse_endpoint(text: str) -> Endpoint:
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a host:port: {text!r}")
    return host, int(port)


def answers(endpoint: Endpoint, timeout: float = 1.0) -> bool:
    """A TCP connect that succeeds: the server called listen() and its backlog accepts us.
    A name that does not resolve (yet) counts as not answering, not as an error: DNS or
    /etc/hosts may come up after us at boot."""
    host, port = endpoint
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return False
    for family, socktype, proto, _name, addr in infos:
        sock = socket.socket(family, socktype, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(addr)
            return True
        except OSError:
            continue
        finally:
            sock.close()
    return False


def wait_for(
    endpoints: Sequence[Endpoint],
    timeout: float,
    interval: float = 0.5,
    name: str = "",
    progress_every: float = 15.0,
    out: object = sys.stderr,
) -> List[Endpoint]:
    """Poll until every endpoint answers or ``timeout`` seconds pass; returns those that
    never answered (empty = success). Prints what it still waits for now and then, so the
    journal shows progress during a long start."""
    deadline = time.monotonic() + timeout
    pending = list(endpoints)
    last_note = time.monotonic()
    label = (name + ": ") if name else ""
    while True:
        pending = [ep for ep in pending if not answers(ep, timeout=min(1.0, interval * 2))]
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
    host, port = endpoint
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


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
        description="Wait until every HOST:PORT accepts TCP connections.",
        epilog="examples:\n"
               "  fate-waitport --timeout 60 10.0.0.2:3306 127.0.0.1:4670\n"
               "  fate-waitport --timeout 5 --json 127.0.0.1:9380\n"
               "  fate-waitport 10.0.0.2:3306 -- /usr/bin/java -jar app.jar   (wait, then exec)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("endpoints", nargs="*", metavar="HOST:PORT")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="give up after this many seconds (default 120)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    parser.add_argument("--name", default="", help="label for messages (the unit name)")
    parser.add_argument("--nofile", type=int, help="raise RLIMIT_NOFILE before exec")
    parser.add_argument("--nproc", type=int, help="raise RLIMIT_NPROC before exec")
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
    label = args.name or "fate-waitport"
    started = time.monotonic()
    missing = wait_for(targets, args.timeout, args.interval, name=label)
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

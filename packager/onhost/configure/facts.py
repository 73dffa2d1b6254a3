"""Facts about the host fate-configure runs on, gathered once and passed around.

Kept apart from the plan so that the plan stays a pure function: tests build
``HostFacts`` by hand, the command line gathers them from /proc and ``ip``.
"""

import os
import re
import subprocess
from typing import List, NamedTuple, Set


class HostFacts(NamedTuple):
    addresses: List[str]
    systemd: bool
    cpus: int = 1
    mem_kib: int = 0


def mem_total_kib(proc: str = "/proc") -> int:
    """MemTotal from /proc/meminfo, in KiB (0 when unreadable)."""
    try:
        with open(os.path.join(proc, "meminfo")) as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def ipv4_addresses() -> List[str]:
    """Addresses from ``ip -4 -o addr`` (iproute is in CentOS 7 @core), loopback last."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True,  # noqa: UP021 (3.6)
                             check=False).stdout
    except OSError:
        out = ""
    found = re.findall(r"\binet (\d+\.\d+\.\d+\.\d+)/", out)
    return sorted(set(found), key=lambda a: (a.startswith("127."), a))


def systemd_running() -> bool:
    """The test systemd itself documents (sd_booted): /run/systemd/system exists."""
    return os.path.isdir("/run/systemd/system")


def gather() -> HostFacts:
    return HostFacts(addresses=ipv4_addresses(), systemd=systemd_running(),
                     cpus=os.cpu_count() or 1, mem_kib=mem_total_kib())


def listening_ports(proc: str = "/proc") -> Set[int]:
    """TCP ports in LISTEN state (what the seed's `ss -lnt` looked at)."""
    ports: Set[int] = set()
    for name in ("net/tcp", "net/tcp6"):
        try:
            with open(os.path.join(proc, name)) as handle:
                next(handle, None)
                for line in handle:
                    fields = line.split()
                    if len(fields) > 3 and fields[3] == "0A":
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            continue
    return ports


def swap_kib(proc: str = "/proc") -> int:
    """Total swap from /proc/swaps, in KiB (the seed's `cat /proc/swaps`)."""
    total = 0
    try:
        with open(os.path.join(proc, "swaps")) as handle:
            next(handle, None)
            for line in handle:
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    total += int(fields[2])
    except OSError:
        pass
    return total


def process_commands(proc: str = "/proc") -> List[str]:
    """Command lines of running processes (for leftover-process checks)."""
    out: List[str] = []
    try:
        names = os.listdir(proc)
    except OSError:
        return out
    for pid in names:
        if not pid.isdigit():
            continue
        try:
            with open(os.path.join(proc, pid, "cmdline"), "rb") as handle:
                cmd = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
        if cmd:
            out.append(cmd)
    return out

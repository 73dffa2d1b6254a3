"""Facts about the host fate-configure runs on, gathered once and passed around.

Kept apart from the plan so that the plan stays a pure function: tests build
``HostFacts`` by hand, the command line gathers them from /proc and ``ip``.
"""

import os
import re
import socket
import subprocess
from typing import Dict, Iterator, List, NamedTuple, Optional, Set, Tuple


class HostFacts(NamedTuple):
    addresses: List[str]
    systemd: bool
    cpus: int = 1
    mem_kib: int = 0
    #: CPUs of the party's nodemanager hosts (the smallest), as the caller measured them
    #: there (``--cores-per-node``: fate-deploy gathers them); 0 = not given.
    node_cores: int = 0


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
                             stderr=subprocess.DEVNULL, encoding="utf-8", errors="replace",
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


def _listening(proc: str) -> Iterator[Tuple[str, int]]:
    """(socket inode, port) of every TCP socket in LISTEN state (state 0A), v4 and v6."""
    for name in ("net/tcp", "net/tcp6"):
        try:
            with open(os.path.join(proc, name)) as handle:
                next(handle, None)
                for line in handle:
                    fields = line.split()
                    if len(fields) > 9 and fields[3] == "0A":
                        yield fields[9], int(fields[1].rsplit(":", 1)[1], 16)
        except OSError:
            continue


def listening_ports(proc: str = "/proc") -> Set[int]:
    """TCP ports in LISTEN state (what the seed's `ss -lnt` looked at)."""
    return {port for _, port in _listening(proc)}


def swap_kib(proc: str = "/proc") -> int:
    """Total swap from /proc/swaps, in KiB (the seed's `cat /proc/swaps`)."""
    total = 0
    try:
        # a swap file's path may be any bytes: UTF-8, not the locale's (ASCII in the C locale)
        with open(os.path.join(proc, "swaps"), encoding="utf-8", errors="replace") as handle:
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


def _listen_inodes(proc: str) -> Dict[str, int]:
    """socket inode -> port of TCP sockets in LISTEN state."""
    return dict(_listening(proc))


def port_owners(proc: str = "/proc") -> Dict[int, str]:
    """port -> "pid N (command)" of the process listening on it, from /proc (what ``ss
    -lntp`` shows); ports whose owner cannot be read (another namespace) are absent."""
    inodes = _listen_inodes(proc)
    owners: Dict[int, str] = {}
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return owners
    for pid in pids:
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except OSError:  # closed meanwhile (our own listdir's fd, for one)
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                port = inodes[link[8:-1]]
                if port not in owners:
                    try:
                        with open(os.path.join(proc, pid, "comm"), encoding="utf-8",
                                  errors="replace") as handle:
                            comm = handle.read().strip()
                    except OSError:
                        comm = "?"
                    owners[port] = f"pid {pid} ({comm})"
    return owners


def account_limits(user: str) -> Optional[Tuple[int, int]]:
    """(open files, processes) soft limits a login of ``user`` gets (PAM's limits.conf:
    ``su`` runs the session stack); None when su is missing or fails."""
    try:
        proc = subprocess.run(["su", "-s", "/bin/bash", "-c", "ulimit -Sn; ulimit -Su", user],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              encoding="utf-8", errors="replace", timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = proc.stdout.split()
    if proc.returncode != 0 or len(words) != 2:
        return None
    big = 1 << 62
    return tuple(big if w == "unlimited" else int(w) for w in words)  # type: ignore


def hostname_problem() -> Optional[str]:
    """None when this host's name resolves, else why not (fate_flow's get_lan_ip() needs it)."""
    name = socket.gethostname()
    try:
        socket.getaddrinfo(name, None)
        return None
    except OSError as exc:
        return f"{name}: {exc.strerror or exc}"

"""Pre-flight checks: the seed's check role, with its messages' meaning (reference §4.5).

Errors stop ``fate-configure`` before anything changes (exit 1); warnings are advice.
The seed aborted on every item; here an item is an error only when going on would
break the install (a second process manager for the same services, a MySQL datadir
we cannot log in to), because our units already set the limits it asked for.
"""

import glob
import os
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from packager.onhost import catalogue, systemctl

from . import facts, paths
from .model import Party
from .paths import Root


class Finding(NamedTuple):
    level: str
    message: str  # level: error|warning

LIMIT = 65535
#: The seed's production swap (ansible-nfate 1.4.5 §3.6, §4.2: "not below 128G").
SWAP_KIB = 128 * 1024 * 1024
FATE_PROCESS_MARKERS = ("com.webank.eggroll", "fate_flow_server.py", "fateboard.jar")


def run_checks(party: Party, services: Sequence[str], root: Root, init: str,
               first_run: bool, root_password_given: bool, systemd: bool,
               listening: Optional[Callable[[], set]] = None,
               processes: Optional[Callable[[], List[str]]] = None,
               swap: Optional[Callable[[], int]] = None, account: str = "app",
               limits: Optional[Callable[[str], Optional[Tuple[int, int]]]] = None,
               owners: Optional[Callable[[], Dict[int, str]]] = None,
               hostname: Optional[Callable[[], Optional[str]]] = None) -> List[Finding]:
    listening = listening or facts.listening_ports
    processes = processes or facts.process_commands
    swap = swap or facts.swap_kib
    limits = limits or facts.account_limits
    owners = owners or facts.port_owners
    hostname = hostname or facts.hostname_problem
    out: List[Finding] = []
    live = root.is_live

    if live:
        kib = swap()
        if kib == 0:
            out.append(Finding("warning", "swap is 0: FATE's docs ask for swap (128G on a "
                                          "dedicated host); add a swap file"))
        elif kib < SWAP_KIB:
            gib = kib / 1048576.0
            out.append(Finding("warning", f"swap is {gib:.1f} GiB, below the 128 GiB the seed "
                                          "asks for in production (memory-heavy jobs spill "
                                          "there); fine for a test party"))
        problem = hostname()
        if problem:
            out.append(Finding("warning", f"the host name does not resolve ({problem}): "
                                          "fate_flow's get_lan_ip() fails on it (FATE#768); "
                                          "add the name to /etc/hosts"))
        got = limits(account)
        if got is not None:
            for (name, what), soft in zip((("open files", "ulimit -n"),
                                           ("max user processes", "ulimit -u")), got):
                if soft < LIMIT:
                    out.append(Finding("warning", f"{name} ({what}) of {account} is {soft}, "
                                                  f"below {LIMIT}: the fate-* units set their "
                                                  "own limit, but what the account runs by "
                                                  "hand (the toy example) gets this one; raise "
                                                  "it in /etc/security/limits.conf"))
        used = listening()
        busy: List[str] = []
        for service in services:
            unit = catalogue.get(service).unit
            for _, port in party.ports(service):
                if port in used and not (systemd and systemctl.is_active(unit + ".service")):
                    busy.append(str(port))
        if busy:
            held = owners()
            named = ["{} ({})".format(p, held.get(int(p), "owner not visible")) for p in busy]
            out.append(Finding("warning", "these ports: {} have been used by a process other "
                                          "than the fate units; stop it or change the port"
                                          .format(", ".join(named))))
        if first_run:
            leftovers = [cmd for cmd in processes()
                         if any(marker in cmd for marker in FATE_PROCESS_MARKERS)]
            if leftovers:
                out.append(Finding("warning", f"key fate process exists "
                                              f"({leftovers[0][:60]}...): check and stop "
                                              "processes of an earlier install"))
    if init == "systemd":
        confs = sorted(glob.glob(root(paths.SUPERVISOR_PROGRAMS + "/fate-*.conf")))
        if confs:
            out.append(Finding("error", f"supervisor_fate_conf exists "
                                        f"({os.path.basename(confs[0])}): an ansible-nfate "
                                        "install's supervisor would start the same services; "
                                        f"remove {paths.SUPERVISOR_PROGRAMS}/fate-*.conf or use "
                                        f"--init supervisor"))
    if "mysql" in services:
        if os.path.exists(root("/etc/my.cnf")):
            out.append(Finding("warning", "/etc/my.cnf exists: fate-mysql reads only its own "
                                          f"{paths.MYSQL_CNF} (--defaults-file), but other MySQL "
                                          f"tools read "
                                          "/etc/my.cnf; rename it if it is a leftover"))
        data = root(paths.MYSQL_DATA)
        has_files = os.path.isdir(data) and bool(os.listdir(data))
        if has_files and not os.path.isdir(os.path.join(data, "mysql")):
            out.append(Finding("error", f"please rename {paths.MYSQL_DATA}: it holds files but "
                                        f"no initialized "
                                        "MySQL, so it cannot be initialized"))
        elif has_files and first_run and not root_password_given:
            out.append(Finding("error", f"please rename {paths.MYSQL_DATA}: it holds a MySQL "
                                        f"from an earlier "
                                        "install whose root password fate-configure does not "
                                        "know (or set mysql.root_passwd)"))
    return out

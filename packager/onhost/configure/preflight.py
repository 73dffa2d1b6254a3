"""Pre-flight checks: the seed's check role, with its messages' meaning (reference §4.5).

Errors stop ``fate-configure`` before anything changes (exit 1); warnings are advice.
The seed aborted on every item; here an item is an error only when going on would
break the install (a second process manager for the same services, a MySQL datadir
we cannot log in to), because our units already set the limits it asked for.
"""

import glob
import os
import resource
from typing import Callable, List, NamedTuple, Optional, Sequence

from packager.onhost import catalogue, systemctl

from . import facts, paths
from .model import Party
from .paths import Root


class Finding(NamedTuple):
    level: str
    message: str  # level: error|warning

LIMIT = 65535
FATE_PROCESS_MARKERS = ("com.webank.eggroll", "fate_flow_server.py", "fateboard.jar")


def run_checks(party: Party, services: Sequence[str], root: Root, init: str,
               first_run: bool, root_password_given: bool, systemd: bool,
               listening: Optional[Callable[[], set]] = None,
               processes: Optional[Callable[[], List[str]]] = None,
               swap: Optional[Callable[[], int]] = None) -> List[Finding]:
    listening = listening or facts.listening_ports
    processes = processes or facts.process_commands
    swap = swap or facts.swap_kib
    out: List[Finding] = []
    live = root.is_live

    if live and swap() == 0:
        out.append(Finding("warning", "swap is 0: FATE's docs ask for swap (128G on a "
                                      "dedicated host); add a swap file"))
    if live:
        for name, what, key in (("open files", "ulimit -n", resource.RLIMIT_NOFILE),
                                ("max user processes", "ulimit -u", resource.RLIMIT_NPROC)):
            soft = resource.getrlimit(key)[0]
            if soft != resource.RLIM_INFINITY and soft < LIMIT:
                out.append(Finding("warning", f"{name} ({what}) is {soft} here, below {LIMIT}: "
                                              f"the fate-* units set "
                                              "their own limit, but commands run by hand (toy "
                                              "example) get this one"))
        used = listening()
        busy: List[str] = []
        for service in services:
            unit = catalogue.get(service).unit
            for _, port in party.ports(service):
                if port in used and not (systemd and systemctl.is_active(unit + ".service")):
                    busy.append(str(port))
        if busy:
            out.append(Finding("warning", "these ports: {} have been used by a process other "
                                          "than the fate units; stop it or change the port"
                                          .format(" ".join(busy))))
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

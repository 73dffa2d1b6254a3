"""This host as fate-ctl sees it: which FATE services live here, their ports and state.

A service "lives here" when fate-configure wrote its env file (the same test the units make
with ConditionPathExists=). ``root`` lets tests, and operators inspecting a mounted image,
point every path at another tree, the way ``rpm --root`` does.
"""

import os
import shutil
import subprocess
from typing import Dict, List, Optional, Sequence, Tuple

from packager.onhost import catalogue, systemctl
from packager.onhost import services as svcdef
from packager.onhost.waitport import answers

Endpoint = Tuple[str, int]

#: Addresses a server binds to that a client cannot connect to as such.
_WILDCARD = {"0.0.0.0", "::", "*", ""}


class Host:
    """Paths and commands of the host being inspected."""

    def __init__(
        self,
        root: str = "/",
        env_dir: str = "/etc/fate/env",
        fate_home: str = "/data/projects/fate",
        manager: str = "auto",
        services: Optional[Sequence[catalogue.Service]] = None,
        connect_timeout: float = 1.0,
    ) -> None:
        self.root = root
        self.env_dir = env_dir
        self.fate_home = fate_home
        self.services = list(services) if services is not None else catalogue.load()
        self.connect_timeout = connect_timeout
        self.manager = self._detect_manager() if manager == "auto" else manager

    def path(self, absolute: str) -> str:
        """``absolute`` inside the inspected root."""
        if self.root in ("", "/"):
            return absolute
        return os.path.join(self.root, absolute.lstrip("/"))

    def _detect_manager(self) -> str:
        if os.path.isdir(self.path("/run/systemd/system")) and shutil.which("systemctl"):
            return "systemd"
        if shutil.which("supervisorctl"):
            return "supervisor"
        return "none"

    # ------------------------------------------------------------ services here

    def env_file(self, svc: catalogue.Service) -> str:
        return self.path(os.path.join(self.env_dir, svc.unit + ".env"))

    def configured(self) -> List[catalogue.Service]:
        return [s for s in self.services if os.path.isfile(self.env_file(s))]

    def environment(self, svc: catalogue.Service) -> Dict[str, str]:
        """Defaults from services.yaml, then the env file (as systemd applies them)."""
        env = dict(svc.environment)
        if os.path.isfile(self.env_file(svc)):
            env.update(svcdef.read_env_file(self.env_file(svc)))
        return env

    def listen_endpoints(self, svc: catalogue.Service) -> List[Endpoint]:
        """Where to knock to see whether the service answers: FATE_LISTEN, else its
        standard ports on loopback. A wildcard bind address is reached via loopback."""
        value = self.environment(svc).get("FATE_LISTEN", "").strip()
        if not value:
            return [("127.0.0.1", p) for p in svc.ports]
        return [("127.0.0.1" if h in _WILDCARD else h, p) for h, p in svcdef.endpoints(value)]

    def wait_endpoints(self, svc: catalogue.Service) -> List[Endpoint]:
        return svcdef.endpoints(self.environment(svc).get("FATE_WAIT_FOR", ""))

    def answers(self, endpoint: Endpoint) -> bool:
        return answers(endpoint, timeout=self.connect_timeout)

    def service_for_port(self, port: int) -> Optional[catalogue.Service]:
        for svc in self.services:
            if port in svc.ports:
                return svc
        return None

    # ------------------------------------------------------------ process manager state

    def state(self, svc: catalogue.Service) -> str:
        """One word or two for the table: active/running, failed, inactive, skipped
        (condition failed: not configured here), not-installed, unknown."""
        if self.manager == "systemd":
            return self._systemd_state(svc)
        if self.manager == "supervisor":
            return self._supervisor_state(svc)
        return "unknown (no systemd or supervisor)"

    def _systemd_state(self, svc: catalogue.Service) -> str:
        props = systemctl.show(svc.unit_file,
                               ["LoadState", "ActiveState", "SubState", "ConditionResult"])
        if props is None:
            return "unknown (systemctl failed)"
        if props.get("LoadState") == "not-found":
            return "not-installed"
        active, sub = props.get("ActiveState", "?"), props.get("SubState", "?")
        if active == "inactive" and props.get("ConditionResult") == "no":
            return "skipped (no env file)"
        return active if active == sub else f"{active}/{sub}"

    def _supervisor_state(self, svc: catalogue.Service) -> str:
        conf = self.path("/data/projects/common/supervisord/supervisord.conf")
        argv = ["supervisorctl"] + (["-c", conf] if os.path.isfile(conf) else [])
        try:
            out = subprocess.run(argv + ["status", svc.program], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, encoding="utf-8", errors="replace",
                                 timeout=15).stdout
        except (OSError, subprocess.TimeoutExpired):
            return "unknown (supervisorctl failed)"
        words = out.split()
        if len(words) >= 2 and words[0] == svc.program:
            return words[1].lower()
        return f"unknown ({out.strip()[:40]})"

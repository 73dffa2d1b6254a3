"""A private network for the multi-host tests: one network namespace per container, joined
by veth pairs. Nothing in them reaches the host's network or anything beyond: the
addresses below exist only inside namespaces this test creates and deletes."""

from __future__ import annotations

import os
import subprocess


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class PrivateNet:
    """Two hosts, ``10.<subnet>.0.1`` and ``.2`` (/24), on one veth pair."""

    def __init__(self, tag: str, subnet: int) -> None:
        base = f"fe2e{os.getpid() % 100000}{tag}"
        self.names = [f"{base}a", f"{base}b"]
        self.addresses = [f"10.{subnet}.0.1", f"10.{subnet}.0.2"]
        self._made: list[str] = []
        try:
            for name in self.names:
                _ip("netns", "add", name)
                self._made.append(name)
                _ip("-n", name, "link", "set", "lo", "up")
            _ip("link", "add", "eth0", "netns", self.names[0], "type", "veth",
                "peer", "name", "eth0", "netns", self.names[1])
            for name, addr in zip(self.names, self.addresses):
                _ip("-n", name, "addr", "add", f"{addr}/24", "dev", "eth0")
                _ip("-n", name, "link", "set", "eth0", "up")
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Delete the namespaces (the veth pair goes with them)."""
        for name in self._made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        self._made = []


class BridgedNet:
    """A control namespace with a bridge (``10.<subnet>.0.254``) and one namespace per
    managed host (``10.<subnet>.0.1`` ...), each joined to the bridge by a veth pair: the
    rollout's controller runs in the first and reaches every host over its own address."""

    def __init__(self, tag: str, subnet: int, hosts: int) -> None:
        base = f"fe2e{os.getpid() % 100000}{tag}"
        self.control = f"{base}c"
        self.names = [f"{base}{i}" for i in range(hosts)]
        self.addresses = [f"10.{subnet}.0.{i + 1}" for i in range(hosts)]
        self.control_address = f"10.{subnet}.0.254"
        self._made: list[str] = []
        try:
            _ip("netns", "add", self.control)
            self._made.append(self.control)
            _ip("-n", self.control, "link", "set", "lo", "up")
            _ip("-n", self.control, "link", "add", "br0", "type", "bridge")
            _ip("-n", self.control, "addr", "add", f"{self.control_address}/24", "dev", "br0")
            _ip("-n", self.control, "link", "set", "br0", "up")
            for index, (name, addr) in enumerate(zip(self.names, self.addresses)):
                _ip("netns", "add", name)
                self._made.append(name)
                _ip("-n", name, "link", "set", "lo", "up")
                _ip("-n", self.control, "link", "add", f"v{index}", "type", "veth",
                    "peer", "name", "eth0", "netns", name)
                _ip("-n", self.control, "link", "set", f"v{index}", "master", "br0")
                _ip("-n", self.control, "link", "set", f"v{index}", "up")
                _ip("-n", name, "addr", "add", f"{addr}/24", "dev", "eth0")
                _ip("-n", name, "link", "set", "eth0", "up")
        except Exception:
            self.close()
            raise

    def in_control(self, *argv: str) -> list[str]:
        """``argv`` run inside the control namespace."""
        return ["ip", "netns", "exec", self.control, *argv]

    def close(self) -> None:
        for name in reversed(self._made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        self._made = []

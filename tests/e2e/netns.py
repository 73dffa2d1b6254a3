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

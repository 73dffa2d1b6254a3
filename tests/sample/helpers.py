"""Running the sample's stand-ins as real processes in tests, and cleaning up after them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Mapping, Sequence


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int, path: str = "/health") -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def set_properties(path: Path, values: Mapping[str, str | None]) -> None:
    """Set (or with None: delete) ``key=value`` lines of a Java properties file."""
    text = path.read_text()
    for key, value in values.items():
        pattern = re.compile(rf"^{re.escape(key)}=.*\n?", re.M)
        if value is None:
            text = pattern.sub("", text)
        elif pattern.search(text):
            line = f"{key}={value}\n"
            text = pattern.sub(lambda _m, line=line: line, text)
        else:
            text += f"{key}={value}\n"
    path.write_text(text)


class Processes:
    """Starts stand-ins; at teardown kills each one it started (by its own pid)."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str],
              log: Path) -> subprocess.Popen:
        handle = open(log, "ab")
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=dict(env), stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        self.started.append(proc)
        return proc

    def until_healthy(self, proc: subprocess.Popen, port: int, log: Path,
                      timeout: float = 20) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"exited {proc.returncode}: {log.read_text()[-2000:]}")
            if answers(port):
                return
            time.sleep(0.1)
        raise AssertionError(f"no answer on {port}: {log.read_text()[-2000:]}")

    def run_to_exit(self, cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                    timeout: float = 30) -> subprocess.CompletedProcess:
        """Run a stand-in expected to fail: returns its exit status and output."""
        return subprocess.run(list(cmd), cwd=cwd, env=dict(env), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout, text=True)

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.started:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

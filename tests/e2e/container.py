"""A booted systemd container: ``systemd-nspawn --boot --register=no --keep-unit`` on the
cached root, driven from the host with ``nsenter -t <container PID 1> -a``.

Why these flags: this host's PID 1 is not systemd, so nspawn cannot register with machined
(``--register=no``) nor move itself into a scope (``--keep-unit``); machinectl cannot reach
the container either, hence nsenter. nspawn runs in its own session so that a Ctrl-C meant
for pytest does not hit it half-way; every container is tracked and powered off by the
fixture finalizers, at interpreter exit and on SIGTERM, so no run leaves one behind. Each
runs in a cgroup of its own (tests/support/nspawn.py says why), and a fresh container
that boots degraded is refused with its failed units: a host whose boot went wrong is not
one to test FATE on.
"""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.nspawn import argv_in, own_cgroup, remove

_LIVE: set[Container] = set()

#: What a failed test keeps (copied out of the container before it is stopped).
LOG_DIRS = ("/data/logs/fate", "/data/projects/fate/eggroll/logs",
            "/data/projects/fate/python/logs", "/data/projects/fate/fateboard/logs",
            "/etc/fate", "/data/projects/fate/eggroll/conf",
            "/data/projects/fate/python/arch/conf", "/data/projects/fate/fateboard/conf")


class CommandFailed(AssertionError):
    pass


class Container:
    """One container on a throw-away overlay of the cached root: writes go to an upper
    directory of its own, so containers are isolated from each other and the cache stays
    untouched, as with nspawn's ``--ephemeral``; but that option copies the whole 560 MB
    tree on ext4 (19-26 s per container measured here, on a loaded 2-core host) while an
    overlay mount takes milliseconds, and, unlike ``--ephemeral``, survives a reboot of the
    container (the day-2 reboot test).
    """

    def __init__(self, name: str, rootfs: Path, workdir: Path, *, netns: str | None = None,
                 binds: dict[str, Path] | None = None) -> None:
        self.name = name
        self.rootfs = rootfs
        self.workdir = workdir
        self.netns = netns
        self.binds = binds or {}
        self.proc: subprocess.Popen | None = None
        self.pid = 0
        self.boots = 0
        self.cgroups: list[Path] = []
        self.layer = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=rootfs.parent))
        self.merged = self.layer / "merged"
        for sub in ("upper", "work", "merged"):
            (self.layer / sub).mkdir()
        _LIVE.add(self)
        try:
            subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir={rootfs},upperdir={self.layer / 'upper'},"
                            f"workdir={self.layer / 'work'}", str(self.merged)],
                           check=True, capture_output=True, timeout=30)
            self.boot()
        except BaseException:
            self.stop()
            raise

    # -- lifecycle -------------------------------------------------------------------------
    def boot(self, timeout: float = 90) -> float:
        """Start nspawn and wait until systemd says running; returns the seconds it took."""
        started = time.monotonic()
        self.boots += 1
        argv = ["systemd-nspawn", "--boot", "--console=pipe", "--register=no", "--keep-unit",
                "-M", self.name, "--capability=CAP_SYS_RESOURCE",
                "-D", str(self.merged)]
        argv.append(f"--network-namespace-path=/run/netns/{self.netns}" if self.netns
                    else "--private-network")
        for dest, src in self.binds.items():
            argv.append(f"--bind-ro={src}:{dest}")
        self.cgroups = own_cgroup(self.name)
        log = (self.workdir / f"{self.name}.nspawn.log").open("a")
        self.proc = subprocess.Popen(argv_in(self.cgroups, argv), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()
        state = ""
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                break
            kids = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                                  text=True).stdout.split()
            if kids:
                self.pid = int(kids[0])
                state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
                if state == "degraded" and self.boots == 1:
                    raise RuntimeError(f"container {self.name} booted degraded: "
                                       f"{self.failed_units()}")
                if state in ("running", "degraded"):
                    return time.monotonic() - started
            time.sleep(0.3)
        tail = (self.workdir / f"{self.name}.nspawn.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"container {self.name} did not boot (state {state!r}): {tail}")

    def reboot(self) -> float:
        """``systemctl reboot`` inside; nspawn exits (133) and is started again on the same
        root, as the machine's firmware would. Returns seconds until systemd is running."""
        assert self.proc is not None
        self.run("systemctl", "reboot", check=False)
        rc = self.proc.wait(timeout=60)
        if rc != 133:
            raise RuntimeError(f"nspawn exited {rc} on reboot, expected 133")
        return self.boot()

    def stop(self) -> None:
        """Power off (clean shutdown), then make sure nspawn is gone; idempotent."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            if self.pid:
                subprocess.run(["nsenter", "-t", str(self.pid), "-a", "systemctl", "poweroff"],
                               capture_output=True, timeout=30, check=False)
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.terminate()  # nspawn halts the container on SIGTERM
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        remove(self.cgroups)
        if self.layer.exists():
            subprocess.run(["umount", str(self.merged)], capture_output=True, timeout=60)
            if not os.path.ismount(self.merged):
                shutil.rmtree(self.layer, ignore_errors=True)
        _LIVE.discard(self)

    # -- commands --------------------------------------------------------------------------
    def run(self, *argv: str, check: bool = True, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run a command in all the container's namespaces with a clean, login-like env."""
        base = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}
        base.update(env or {})
        full = ["nsenter", "-t", str(self.pid), "-a", "env", "-i",
                *(f"{k}={v}" for k, v in base.items()), *argv]
        proc = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise CommandFailed(f"[{self.name}] {shlex.join(argv)}: rc={proc.returncode}\n"
                                f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n"
                                f"{proc.stderr[-4000:]}")
        return proc

    def failed_units(self) -> str:
        """Each failed unit with the last lines its journal has of it."""
        return self.sh("for u in $(systemctl --failed --no-legend --plain | cut -d' ' -f1); "
                       "do journalctl -b --no-pager -o cat -n 5 -u \"$u\"; done",
                       check=False).stdout.strip()

    def sh(self, script: str, **kw) -> subprocess.CompletedProcess:
        return self.run("/bin/bash", "-ec", script, **kw)

    def write(self, path: str, text: str, mode: str = "0644") -> None:
        proc = subprocess.run(["nsenter", "-t", str(self.pid), "-a", "/bin/sh", "-ec",
                               f'mkdir -p "$(dirname {path})" && cat > {path} && '
                               f"chmod {mode} {path}"], input=text, text=True,
                              capture_output=True, timeout=30)
        if proc.returncode != 0:
            raise CommandFailed(f"[{self.name}] write {path}: {proc.stderr}")

    def read(self, path: str) -> str:
        return self.run("cat", path).stdout

    def show(self, unit: str, *props: str) -> dict[str, str]:
        out = self.run("systemctl", "show", unit, *(f"-p{p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def mysql(self, sql: str) -> str:
        """A query through the FATE MySQL's own client, as root over its socket."""
        return self.sh(
            "cd /data/projects/fate/common/mysql/mysql-8.0.13 && "
            "pw=$(sed -n \"s/^mysql_root: *//p\" /etc/fate/secrets.yaml | tr -d \"'\\\"\") && "
            f"bin/mysql --defaults-file=conf/my.cnf -uroot -p\"$pw\" -N -B -e {shlex.quote(sql)}"
        ).stdout

    # -- artifacts -------------------------------------------------------------------------
    def collect(self, dest: Path) -> Path:
        """Journal, unit states and every FATE log/config into ``dest``/<name>/."""
        out = dest / self.name
        out.mkdir(parents=True, exist_ok=True)
        if self.proc is None or self.proc.poll() is not None or not self.pid:
            return out
        for fname, argv in {
            "journal.txt": ["journalctl", "-b", "--no-pager", "-o", "short-precise"],
            "units.txt": ["systemctl", "list-units", "--all", "--no-pager", "fate*"],
            "rpm-qa.txt": ["rpm", "-qa"],
            "ps.txt": ["ps", "auxf"],
        }.items():
            proc = self.run(*argv, check=False, timeout=60)
            (out / fname).write_text(proc.stdout + proc.stderr)
        tar = subprocess.run(["nsenter", "-t", str(self.pid), "-a", "tar", "-czf", "-",
                              "--ignore-failed-read", *LOG_DIRS],
                             capture_output=True, timeout=120)
        (out / "fate-logs.tar.gz").write_bytes(tar.stdout)
        return out


def stop_all() -> None:
    for box in list(_LIVE):
        try:
            box.stop()
        except Exception:  # noqa: BLE001 - best effort at exit, keep stopping the others
            pass


def _on_sigterm(signum, frame):  # pragma: no cover - exercised by a killed run only
    stop_all()
    raise SystemExit(128 + signum)


atexit.register(stop_all)
if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
    signal.signal(signal.SIGTERM, _on_sigterm)

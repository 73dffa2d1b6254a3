"""The rendered units under a real systemd: boot a Debian container (systemd-nspawn --boot),
install units + preset via our %post scriptlet, ``systemctl start fate.target`` and check
order, readiness, the service account, limits, the condition on env files, restart on
failure, ``fate-ctl status`` against real systemctl output, stop, and %preun on erase.

Stub servers stand at FATE's real executable paths: each opens the ports of its
``FATE_LISTEN`` (optionally after ``STUB_DELAY`` seconds) and records what it saw. The
container's systemd is Debian's (252), not CentOS 7's 219: directive compatibility with 219
is checked separately (test_units_lint); this test is about behaviour.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from packager.assemble.steps import lay_out_onhost
from packager.onhost import catalogue, services
from packager.systemd_scriptlets import scriptlets
from tests.support.nspawn import argv_in, own_cgroup, remove

pytestmark = [pytest.mark.root, pytest.mark.slow]

ROOTFS = Path(os.environ.get("FATE_PKG_TEST_ROOTFS", "/var/tmp/fate-pkg-units-rootfs"))
SITE = Path(sys.prefix) / f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
UNITS = [s.unit_file for s in catalogue.load()] + ["fate.target"]

STUB = """#!/usr/bin/python3
import json, os, pwd, resource, socket, sys, time
name = os.environ["STUB_NAME"]
log = "/data/logs/fate/stub/%s.jsonl" % name
def note(event, **kw):
    kw.update(event=event, t=time.time(), pid=os.getpid())
    with open(log, "a") as fh:
        fh.write(json.dumps(kw) + "\\n")
note("start", argv=sys.argv, user=pwd.getpwuid(os.getuid()).pw_name,
     nofile=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
     nproc=resource.getrlimit(resource.RLIMIT_NPROC)[0], cwd=os.getcwd())
time.sleep(float(os.environ.get("STUB_DELAY", "0")))
socks = []
for item in os.environ.get("FATE_LISTEN", "").split():
    host, port = item.rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(8)
    socks.append(s)
note("listen")
while True:
    time.sleep(60)
"""

ENV = {
    "fate-mysql": "FATE_LISTEN=127.0.0.1:3306\n",
    "fate-clustermanager": "EGGROLL_PORT=4670\nEGGROLL_PROCESS_TAG=fate-test\n"
                           "FATE_WAIT_FOR=127.0.0.1:3306\nFATE_LISTEN=127.0.0.1:4670\n"
                           "STUB_DELAY=2\n",
    "fate-rollsite": "FATE_WAIT_FOR=\nFATE_LISTEN=127.0.0.1:9370\n",
    "fate-flow": "FATE_WAIT_FOR=127.0.0.1:3306 127.0.0.1:4670 127.0.0.1:9370\n"
                 "FATE_LISTEN=127.0.0.1:9360 127.0.0.1:9380\nSTUB_DELAY=1\n",
}
NOT_HERE = ["fate-nodemanager", "fate-board"]


def ensure_rootfs() -> Path:
    """A Debian root with systemd and python3, built once and reused (about 100 s)."""
    if (ROOTFS / "usr/bin/python3").exists() and (ROOTFS / "lib/systemd/systemd").exists():
        return ROOTFS
    for tool in ("debootstrap", "systemd-nspawn"):
        assert shutil.which(tool), f"{tool} is listed in scripts/apt-packages.txt"
    tmp = ROOTFS.with_name(ROOTFS.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["debootstrap", "--variant=minbase",
                    "--include=systemd,systemd-sysv,dbus,python3,passwd", "bookworm", str(tmp)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=900)
    shutil.rmtree(tmp / "var/cache/apt/archives", ignore_errors=True)
    tmp.rename(ROOTFS)
    return ROOTFS


def stage(tmp_path: Path) -> Path:
    """Everything the container gets, under one directory bound read-only at /fate-stage."""
    stage_dir = tmp_path / "stage"
    root = stage_dir / "root"
    lay_out_onhost(stage_dir / "tools")  # bound at /opt/fate-pkg: the on-host tree alone
    services.render_units(str(root))
    for svc in catalogue.load():
        exe = root / svc.command[0].lstrip("/")
        exe.parent.mkdir(parents=True, exist_ok=True)
        exe.write_text(STUB)
        exe.chmod(0o755)
        (root / svc.directory.lstrip("/")).mkdir(parents=True, exist_ok=True)
    waitport = root / "usr/bin/fate-waitport"
    waitport.parent.mkdir(parents=True, exist_ok=True)
    waitport.write_text("#!/bin/sh\nPYTHONPATH=/opt/fate-pkg exec python3 -m "
                        'packager.onhost.waitport "$@"\n')
    waitport.chmod(0o755)
    env_dir = root / "etc/fate/env"
    env_dir.mkdir(parents=True)
    for unit, text in ENV.items():
        (env_dir / f"{unit}.env").write_text(f"STUB_NAME={unit}\n{text}")
    bodies = scriptlets(UNITS)
    for kind, body in bodies.items():
        (stage_dir / f"{kind}.sh").write_text(body)
    (stage_dir / "setup.sh").write_text(
        "set -e\ncp -a /fate-stage/root/. /\n"
        "groupadd -r apps\nuseradd -r -g apps -M -d /home/app app\n"
        "mkdir -p /data/logs/fate/stub /data/projects/data/fate\n"
        "chown -R app:apps /data/logs/fate\nsystemctl daemon-reload\n")
    return stage_dir


class Container:
    def __init__(self, tmp_path: Path, stage_dir: Path):
        self.log = tmp_path / "nspawn.log"
        name = f"fateunits{os.getpid()}"
        self.cgroups = own_cgroup(name)
        self.proc = subprocess.Popen(argv_in(self.cgroups, [
            "systemd-nspawn", "-D", str(ensure_rootfs()), "--ephemeral", "--boot",
             "--console=pipe", "--register=no", "--keep-unit", "--private-network",
             "--capability=CAP_SYS_RESOURCE",
             "-M", name,
             f"--bind-ro={stage_dir}:/fate-stage", f"--bind-ro={stage_dir / 'tools'}:/opt/fate-pkg",
             f"--bind-ro={SITE}:/opt/site"]),
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            children = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                                      text=True).stdout.split()
            if children:
                self.pid = int(children[0])
                state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"container did not boot: {self.log.read_text()[-2000:]}")

    def run(self, *argv: str, check: bool = True, timeout: float = 90):
        proc = subprocess.run(["nsenter", "-t", str(self.pid), "-a", "env", "-i",
                               "PATH=/usr/sbin:/usr/bin:/sbin:/bin", *argv],
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{argv}: rc={proc.returncode} {proc.stdout} {proc.stderr}")
        return proc

    def show(self, unit: str, *props: str) -> dict[str, str]:
        args = ["systemctl", "show", unit] + [f"-p{p}" for p in props]
        out = self.run(*args).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def events(self, unit: str) -> list[dict]:
        text = self.run("cat", f"/data/logs/fate/stub/{unit}.jsonl", check=False).stdout
        return [json.loads(line) for line in text.splitlines()]

    def stop(self) -> None:
        if self.proc.poll() is None and self.pid:
            subprocess.run(["nsenter", "-t", str(self.pid), "-a", "systemctl", "poweroff"],
                           capture_output=True, timeout=30)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        remove(self.cgroups)


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.fail("systemd-nspawn needs root (CI runs as root)")
    tmp_path = tmp_path_factory.mktemp("boot")
    box = Container(tmp_path, stage(tmp_path))
    try:
        box.run("sh", "-e", "/fate-stage/setup.sh")
        yield box
    finally:
        box.stop()


def first(events: list[dict], kind: str) -> dict:
    return next(e for e in events if e["event"] == kind)


def test_post_scriptlet_enables_through_the_preset(container):
    container.run("sh", "/fate-stage/post.sh", "1")
    for unit in UNITS:
        state = container.run("systemctl", "is-enabled", unit, check=False).stdout.strip()
        assert state == "enabled", unit


def test_start_target_starts_configured_services_in_order_when_ready(container):
    container.run("systemctl", "start", "fate.target", timeout=120)
    for unit in ENV:
        props = container.show(f"{unit}.service", "ActiveState", "SubState")
        assert props == {"ActiveState": "active", "SubState": "running"}, unit
    for unit in NOT_HERE:
        props = container.show(f"{unit}.service", "ActiveState", "ConditionResult")
        assert props == {"ActiveState": "inactive", "ConditionResult": "no"}, unit
    mysql, cm = container.events("fate-mysql"), container.events("fate-clustermanager")
    rollsite, flow = container.events("fate-rollsite"), container.events("fate-flow")
    # each stage starts only once the previous one's ports answer (not merely its process)
    assert first(cm, "start")["t"] >= first(mysql, "listen")["t"]
    assert first(flow, "start")["t"] >= first(cm, "listen")["t"]
    assert first(flow, "start")["t"] >= first(rollsite, "listen")["t"]
    assert first(cm, "listen")["t"] - first(cm, "start")["t"] >= 2
    # `systemctl start` returned only after fate_flow's ports answered (ExecStartPost)
    assert container.run("python3", "-c", "import socket; socket.create_connection"
                         "(('127.0.0.1', 9380), 2)").returncode == 0


def test_services_run_as_the_account_with_the_limits_and_real_arguments(container):
    start = first(container.events("fate-clustermanager"), "start")
    assert start["user"] == "app"
    # systemd applies LimitNOFILE/LimitNPROC; a sandbox without CAP_SYS_RESOURCE caps the
    # hard limit (then the process gets that cap), lowering always works.
    limits = container.show("fate-clustermanager.service", "LimitNOFILE", "LimitNPROC")
    assert limits == {"LimitNOFILE": "65535", "LimitNPROC": "65535"}
    assert start["nofile"] == min(65535, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    assert start["nproc"] == min(65535, resource.getrlimit(resource.RLIMIT_NPROC)[1])
    assert start["cwd"] == "/data/projects/fate/eggroll"
    assert start["argv"][-4:] == ["-p", "4670", "-s", "fate-test"]
    flow = first(container.events("fate-flow"), "start")
    assert flow["argv"][1:] == ["/data/projects/fate/python/fate_flow/fate_flow_server.py"]


def test_fate_ctl_status_reads_real_systemd(container):
    proc = container.run("env", "PYTHONPATH=/opt/fate-pkg:/opt/site", "python3", "-m",
                         "packager.onhost.ctl.cli", "--manager", "systemd", "status", "--json",
                         check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["service"]: r for r in json.loads(proc.stdout)["services"]}
    assert set(rows) == set(ENV)
    assert all(r["state"] == "active/running" and r["healthy"] for r in rows.values())


def test_a_crashed_service_is_restarted(container):
    before = container.show("fate-rollsite.service", "MainPID")["MainPID"]
    container.run("sh", "-c", f"kill -9 {before}")
    deadline = time.monotonic() + 30
    after = before
    while time.monotonic() < deadline:
        props = container.show("fate-rollsite.service", "MainPID", "ActiveState")
        after = props["MainPID"]
        if props["ActiveState"] == "active" and after not in ("0", before):
            break
        time.sleep(0.5)
    assert after not in ("0", before)
    assert len([e for e in container.events("fate-rollsite") if e["event"] == "start"]) == 2


def test_stop_target_stops_everything(container):
    container.run("systemctl", "stop", "fate.target", timeout=120)
    states = {unit: container.show(f"{unit}.service", "ActiveState", "SubState")
              for unit in ENV}
    assert {u: s["ActiveState"] for u, s in states.items()} == {u: "inactive" for u in ENV}, \
        states


def test_preun_on_erase_disables_and_stops(container):
    container.run("systemctl", "start", "fate-rollsite.service", timeout=60)
    container.run("sh", "/fate-stage/preun.sh", "0")
    assert container.show("fate-rollsite.service", "ActiveState")["ActiveState"] == "inactive"
    for unit in UNITS:
        state = container.run("systemctl", "is-enabled", unit, check=False).stdout.strip()
        assert state == "disabled", unit

"""fate-deploy over real sshd: the seed's job (one guest party on two hosts, driven from
a control host with one command) from bare hosts to the toy example, with Ansible 2.9.27
(EPEL 7's version, from PyPI on an older CPython) as the engine.

Three booted containers with sshd and the seed's ``app`` user (passwordless sudo), each in
its own network namespace, joined by a bridge to a control namespace where fate-deploy
runs: the code as the fate-tools RPM ships it, with the seed's inventory shape. The current
ansible-core checks the same playbook (``--syntax-check``). Tests run in order, each on
the state the previous one left, as an operator's days do.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .container import Container
from .controller import ansible_29, ansible_core
from .netns import BridgedNet
from .party import party
from .rootfs import ensure_ssh_rootfs
from .scenario import DROP, TOY_LINE, configure, install_bundle, prepare_os, timing, toy

pytestmark = [pytest.mark.root, pytest.mark.slow]

SUBNET = 78
NOWHERE = f"10.{SUBNET}.0.99"   # an address on the network with no host behind it
SEED_SUDOERS = "app ALL=(ALL) NOPASSWD: ALL\nDefaults !env_reset\n"


def two_host(a: str, b: str, nodemanagers: list[str] | None = None) -> str:
    """The seed's plan: A fate_flow, fateboard, clustermanager, rollsite, MySQL; B nodemanager."""
    return party(9999, {"rollsite": [a], "clustermanager": [a], "nodemanager": nodemanagers or [b],
                        "fate_flow": [a], "fateboard": [a], "mysql": [a]})


class Controller:
    """The control host: fate-deploy from the fate-tools RPM's tree, ansible 2.9.27."""

    def __init__(self, net: BridgedNet, work: Path, rpms: Path, bundle: Path) -> None:
        self.net = net
        self.work = work
        self.venv = ansible_29()
        tree = work / "fate-tools"
        tree.mkdir()
        (rpm,) = rpms.glob("fate-tools-*.rpm")
        subprocess.run(f"rpm2cpio {shlex.quote(str(rpm))} | cpio -idm --quiet", shell=True,
                       cwd=tree, check=True, timeout=120)
        self.lib = tree / "usr/lib/fate-tools"
        self.bundle = work / "bundle"
        self.bundle.mkdir()
        subprocess.run(["tar", "-xf", str(bundle), "-C", str(self.bundle)], check=True)
        self.key = work / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)],
                       check=True)
        self.known_hosts = work / "known_hosts"
        self.inventory = work / "hosts"
        self.party = work / "party.yaml"
        self.workdir = work / "deploy"

    def trust(self, addresses: list[str]) -> None:
        """The seed's "ssh to every host once by hand": their host keys, recorded."""
        deadline = time.monotonic() + 60
        keys = ""
        while time.monotonic() < deadline:
            proc = subprocess.run(self.net.in_control("ssh-keyscan", "-T", "3", *addresses),
                                  capture_output=True, text=True, timeout=60)
            keys = proc.stdout
            if all(a in keys for a in addresses):
                break
            time.sleep(1)
        self.known_hosts.write_text(keys)

    def write_inventory(self, hosts: list[str]) -> None:
        """The seed's environments/prod/hosts, as an operator fills it in."""
        self.inventory.write_text(
            "[fate]\n" + "".join(f"{h}\n" for h in hosts) + "\n[deploy_check]\n"
            f"{self.net.control_address}\n\n[all:vars]\nansible_connection=ssh\n"
            "ansible_ssh_port=22\nansible_ssh_user=app\n#ansible_ssh_pass=test\n"
            "ansible_become_method=sudo\nansible_become_user=root\nansible_become_pass=\n"
            f"ansible_ssh_private_key_file={self.key}\n"
            f"ansible_ssh_common_args='-o UserKnownHostsFile={self.known_hosts} "
            "-o StrictHostKeyChecking=yes'\n")

    def deploy(self, party_yaml: str, *args: str, timeout: float = 900
               ) -> tuple[int, dict, str]:
        self.party.write_text(party_yaml)
        self.party.chmod(0o600)
        env = {"PATH": f"{self.venv / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOME": str(self.work), "LANG": "C.UTF-8",
               "PYTHONPATH": f"{self.lib}:{self.lib / 'vendor'}"}
        argv = self.net.in_control(
            "env", "-i", *(f"{k}={v}" for k, v in env.items()), str(self.venv / "bin/python"),
            "-s", "-c", "import sys; sys.argv[0] = 'fate-deploy'; "
            "from packager.onhost.deploy.cli import main; sys.exit(main())",
            str(self.party), "--bundle", str(self.bundle), "--inventory", str(self.inventory),
            "--workdir", str(self.workdir),
            "--ansible-playbook", str(self.venv / "bin/ansible-playbook"), "--json", *args)
        # cwd: not the checkout, whose ``packager`` would shadow the RPM's
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              cwd=self.work)
        try:
            summary = json.loads(proc.stdout)
        except ValueError:
            summary = {}
        return proc.returncode, summary, proc.stderr


EGG_CONF = "/data/projects/fate/eggroll/conf/eggroll.properties"


def egg(cores: int) -> int:
    """eggroll.session.processors.per.node for ``cores`` (seed §7.1, one job at a time)."""
    return max(1, int(cores * 0.8))


def show_cpus(box: Container, count: int) -> None:
    """The host's online CPUs as ``count`` (glibc's sysconf reads this file, for getconf
    and Python's os.cpu_count alike)."""
    box.write("/root/cpu-online", f"0-{count - 1}\n" if count > 1 else "0\n")
    box.run("mount", "--bind", "/root/cpu-online", "/sys/devices/system/cpu/online")


def seed_host(box: Container, name: str, hosts_lines: str, pubkey: str) -> None:
    """The seed's chapter 3 on a bare CentOS 7 host: host name and /etc/hosts, the app user
    (group apps, gid 6000) with passwordless sudo, the controller's key."""
    prepare_os(box)
    box.run("hostname", name)
    box.write("/etc/hostname", name + "\n")
    box.sh(f"cat >> /etc/hosts <<'EOF'\n{hosts_lines}EOF")
    box.sh("groupadd -g 6000 apps && useradd -s /bin/bash -g apps -m -d /home/app app")
    box.write("/etc/sudoers.d/app", SEED_SUDOERS, mode="0440")
    box.write("/home/app/.ssh/authorized_keys", pubkey, mode="0600")
    box.sh("chown -R app:apps /home/app/.ssh && chmod 700 /home/app/.ssh")


@pytest.fixture(scope="module")
def net():
    network = BridgedNet("r", SUBNET, 3)
    try:
        yield network
    finally:
        network.close()


@pytest.fixture(scope="module")
def site(boxes, drop, rpms, net, tmp_path_factory):
    root = ensure_ssh_rootfs()
    (bundle,) = rpms.glob("fate-bundle-*.tar")
    ctl = Controller(net, tmp_path_factory.mktemp("control"), rpms, bundle)
    names = ["fate-a", "fate-b", "fate-c"]
    hosts_lines = "".join(f"{a} {n}\n" for a, n in zip(net.addresses, names))
    pubkey = (ctl.key.with_suffix(".pub")).read_text()

    def seeded(index: int) -> Container:
        box = boxes(f"ro{'abc'[index]}", root=root, netns=net.names[index],
                    binds={DROP: drop})
        seed_host(box, names[index], hosts_lines, pubkey)
        return box

    with ThreadPoolExecutor(max_workers=len(names)) as pool:   # boots mostly wait
        made = list(pool.map(seeded, range(len(names))))
    # The nodemanager hosts get a CPU count whose sessions differ from what A's own would
    # give (A runs no nodemanager, so its count must not size them); C's is larger than
    # B's, so the smallest stays B's when C joins.
    own = int(made[0].run("getconf", "_NPROCESSORS_ONLN").stdout)
    ctl.node_cpus = 1 if egg(own) > 1 else 3
    show_cpus(made[1], ctl.node_cpus)
    show_cpus(made[2], ctl.node_cpus + 1)
    ctl.trust(net.addresses)
    return ctl, made


def untouched(box: Container) -> str:
    """What a refused or checking run must leave as it was."""
    return box.sh("rpm -qa | sort; ls -la /etc/fate /var/lib/fate-deploy /data 2>&1; "
                  "systemctl list-unit-files 'fate*' --no-legend 2>&1", check=False).stdout


def unit_pids(box: Container, units: tuple[str, ...]) -> dict[str, str]:
    return {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in units}


ON_A = ("fate-mysql", "fate-clustermanager", "fate-rollsite", "fate-flow", "fate-board")


def test_an_unreachable_host_is_refused_before_any_host_changes(site, net):
    ctl, (a, b, _) = site
    before = [untouched(a), untouched(b)]
    ctl.write_inventory(net.addresses[:2] + [NOWHERE])
    rc, summary, err = ctl.deploy(two_host(*net.addresses[:2],
                                           nodemanagers=[net.addresses[1], NOWHERE]))
    assert rc == 1, err
    assert f"FAILED: {NOWHERE} unreachable at 'pre-flight" in err
    assert "no host was changed" in err
    assert summary["hosts"][NOWHERE]["unreachable"] is True
    assert [untouched(a), untouched(b)] == before


def test_pre_flight_names_a_host_whose_name_does_not_resolve(site, net):
    ctl, (a, b, _) = site
    b.sh("cp /etc/hosts /root/hosts.ok && grep -v fate-b /root/hosts.ok > /etc/hosts")
    try:
        before = untouched(a)
        ctl.write_inventory(net.addresses[:2])
        rc, summary, err = ctl.deploy(two_host(*net.addresses[:2]))
        assert rc == 1, err
        failed = summary["hosts"][net.addresses[1]]["failed"]
        assert "host name 'fate-b' does not resolve" in failed["message"], failed
        assert "FATE#768" in failed["message"]
        assert untouched(a) == before
    finally:
        b.sh("cp /root/hosts.ok /etc/hosts")


def test_check_on_bare_hosts_changes_nothing(site, net):
    ctl, (a, b, _) = site
    before = [untouched(a), untouched(b)]
    rc, summary, err = ctl.deploy(two_host(*net.addresses[:2]), "--check")
    assert rc == 0, err
    assert summary["check"] is True
    assert "after the packages are installed" in summary["hosts"][net.addresses[1]]["check"]
    assert [untouched(a), untouched(b)] == before


def test_the_seeds_two_host_party_from_bare_hosts_to_the_toy_example(site, net):
    ctl, (a, b, _) = site
    a_ip, b_ip = net.addresses[:2]
    t0 = time.monotonic()
    rc, summary, err = ctl.deploy(two_host(a_ip, b_ip))
    took = time.monotonic() - t0
    assert rc == 0, err[-6000:]
    timing("rollout: fate-deploy, two bare hosts -> toy success", took)
    site[0].rollout_seconds = took
    assert summary["toy"]["ok"] == "yes" and summary["toy"]["line"].endswith(TOY_LINE)
    rows = summary["hosts"]
    assert [s["service"] for s in rows[a_ip]["services"]] == list(ON_A) or \
        sorted(s["service"] for s in rows[a_ip]["services"]) == sorted(ON_A)
    assert [s["service"] for s in rows[b_ip]["services"]] == ["fate-nodemanager"]
    assert all(s["healthy"] for r in rows.values() for s in r["services"])
    # only the RPMs of B's roles on B: installed, and on its disk at all
    assert b.run("rpm", "-q", "fate-mysql", "fate-flow", "fate-board", check=False
                 ).stdout.count("is not installed") == 3
    assert b.run("rpm", "-q", "fate-eggroll", "fate-python", "fate-tools").returncode == 0
    on_disk = b.sh("find / -xdev -name '*.rpm' 2>/dev/null | grep -v '^/e2e/'; "
                   "tar -tf /var/lib/fate-deploy/*.tar").stdout
    assert "fate-eggroll-1.4.5" in on_disk and "fate-jdk-1.4.5" in on_disk, on_disk
    assert not [n for n in ("fate-mysql-", "fate-flow-", "fate-board-") if n in on_disk], on_disk
    assert "fate-mysql-1.4.5" in a.sh("ls /var/lib/fate-deploy/*/rpms").stdout
    # secrets: generated on A, 0600 on the controller and on B, the same bytes
    local = ctl.workdir / "secrets/secrets.yaml"
    assert oct(local.stat().st_mode & 0o777) == "0o600"
    assert b.sh("stat -c %a /etc/fate/secrets.yaml").stdout.strip() == "600"
    assert b.read("/etc/fate/secrets.yaml") == a.read("/etc/fate/secrets.yaml") \
        == local.read_text()
    password = a.sh("sed -n 's/^mysql_fate: *//p' /etc/fate/secrets.yaml").stdout.strip()
    assert password and password.strip("'\"") not in Path(summary["log"]).read_text()
    # the eggroll sessions are sized from B's CPUs on every host, A (fate_flow) included
    per_node = f"eggroll.session.processors.per.node={egg(ctl.node_cpus)}\n"
    assert per_node in a.read(EGG_CONF) and per_node in b.read(EGG_CONF)


def test_a_second_run_changes_nothing_and_restarts_nothing(site, net):
    ctl, (a, b, _) = site
    before = (unit_pids(a, ON_A), unit_pids(b, ("fate-nodemanager",)))
    rc, summary, err = ctl.deploy(two_host(*net.addresses[:2]))
    assert rc == 0, err[-4000:]
    assert summary["changed"] == 0, {h: r["changed_tasks"] for h, r in summary["hosts"].items()}
    assert (unit_pids(a, ON_A), unit_pids(b, ("fate-nodemanager",))) == before
    assert "nothing changed, already deployed" in err


def test_check_shows_the_diff_masked_and_changes_nothing(site, net):
    ctl, (a, b, _) = site
    a_ip, b_ip = net.addresses[:2]
    text = two_host(a_ip, b_ip).replace("port: 8080", "port: 8081")
    snap = [untouched(a), a.sh("sha256sum /data/projects/fate/fateboard/conf/*").stdout]
    rc, summary, err = ctl.deploy(text, "--check")
    assert rc == 0, err[-4000:]
    shown = summary["hosts"][a_ip]["check"]
    assert "8081" in shown and "would" in shown
    password = a.sh("sed -n 's/^mysql_fate: *//p' /etc/fate/secrets.yaml").stdout.strip()
    assert password.strip("'\"") not in shown
    assert [untouched(a), a.sh("sha256sum /data/projects/fate/fateboard/conf/*").stdout] == snap


def test_ansible_core_reads_the_same_playbook(site):
    ctl, _ = site
    core = ansible_core()
    proc = subprocess.run([str(core / "bin/ansible-playbook"), "--syntax-check", "site.yml"],
                          cwd=ctl.workdir, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, ANSIBLE_CONFIG=str(ctl.workdir / "ansible.cfg")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "playbook: site.yml" in proc.stdout


def test_a_failure_midway_names_host_and_step_then_the_next_run_converges(site, net):
    """A third host joins as a nodemanager, but its nodemanager never opens its port this
    time; the run stops naming the host and the step, the next run adds it."""
    ctl, (a, b, c) = site
    a_ip, b_ip, c_ip = net.addresses
    c.write("/etc/systemd/system/fate-nodemanager.service.d/never-listens.conf",
            "[Service]\nExecStart=\nExecStart=/bin/sleep 600\nTimeoutStartSec=3\n")
    ctl.write_inventory(net.addresses)
    text = two_host(a_ip, b_ip, nodemanagers=[b_ip, c_ip])
    rc, summary, err = ctl.deploy(text)
    assert rc == 1, err[-4000:]
    failed = summary["hosts"][c_ip]["failed"]
    assert failed and failed["play"].startswith("start stage"), err[-4000:]
    assert f"FAILED: {c_ip} failed at 'start stage" in err
    c.sh("rm -r /etc/systemd/system/fate-nodemanager.service.d && systemctl daemon-reload")
    steady = ("fate-mysql", "fate-clustermanager", "fate-rollsite", "fate-board")
    pids_a = unit_pids(a, steady)
    rc, summary, err = ctl.deploy(text)
    assert rc == 0, err[-6000:]
    assert summary["toy"]["ok"] == "yes"
    assert [s["service"] for s in summary["hosts"][c_ip]["services"]] == ["fate-nodemanager"]
    rows = a.mysql("SELECT host, port FROM eggroll_meta.server_node WHERE node_type = "
                   "'NODE_MANAGER' ORDER BY host").split()
    assert rows == [b_ip, "4671", c_ip, "4671"]
    # only fate_flow must restart (it waits for every nodemanager); nothing else on A did
    assert unit_pids(a, steady) == pids_a
    assert all(s["healthy"] for r in summary["hosts"].values() for s in r["services"])


def test_limit_redeploys_one_host(site, net):
    ctl, (a, b, c) = site
    a_ip, b_ip, c_ip = net.addresses
    rc, summary, err = ctl.deploy(two_host(a_ip, b_ip, nodemanagers=[b_ip, c_ip]),
                                  "--limit", c_ip)
    assert rc == 0, err[-4000:]
    log = Path(summary["log"]).read_text()
    recap = log[log.index("PLAY RECAP"):]
    assert c_ip in recap and a_ip not in recap and b_ip not in recap


def test_a_removed_nodemanager_is_stopped(site, net):
    ctl, (a, b, c) = site
    a_ip, b_ip, c_ip = net.addresses
    rc, summary, err = ctl.deploy(two_host(a_ip, b_ip))
    assert rc == 0, err[-4000:]
    assert summary["hosts"][c_ip]["retired"] is True
    assert c.show("fate-nodemanager.service", "ActiveState", "UnitFileState") == {
        "ActiveState": "inactive", "UnitFileState": "disabled"}
    rows = a.mysql("SELECT host FROM eggroll_meta.server_node WHERE node_type = "
                   "'NODE_MANAGER'").split()
    assert rows == [b_ip]          # eggroll no longer offers the stopped host to sessions
    # and the host that left can no longer log in to MySQL
    accounts = a.mysql("SELECT host FROM mysql.user WHERE user = 'fate' ORDER BY host").split()
    assert accounts == sorted([a_ip, b_ip]), accounts
    assert summary["toy"]["ok"] == "yes"


def test_the_same_party_by_the_single_host_steps(site, boxes, drop, rootfs):
    """The comparison of the README: the manual steps (install.sh, fate-configure on the
    MySQL host, secrets copied by hand, fate-configure, start in order, toy) on two
    fresh hosts in this run."""
    ctl, _ = site
    manual = BridgedNet("m", SUBNET + 1, 2)
    try:
        a_ip, b_ip = manual.addresses
        text = two_host(a_ip, b_ip)

        def prepared(which: int) -> Container:
            box = boxes(f"rm{'ab'[which]}", netns=manual.names[which], binds={DROP: drop})
            prepare_os(box)
            box.run("hostname", f"fate-{'ab'[which]}")
            return box

        with ThreadPoolExecutor(max_workers=2) as pool:
            a, b = pool.map(prepared, range(2))
        t0 = time.monotonic()
        for box in (a, b):
            install_bundle(box)
        configure(a, text)
        b.write("/etc/fate/secrets.yaml", a.read("/etc/fate/secrets.yaml"), mode="0600")
        configure(b, text)
        a.run("systemctl", "start", "fate-mysql", timeout=300)
        a.run("systemctl", "start", "fate-clustermanager", "fate-rollsite", timeout=300)
        b.run("systemctl", "start", "fate-nodemanager", timeout=300)
        a.run("systemctl", "start", "fate-flow", timeout=300)
        a.run("systemctl", "start", "fate-board", timeout=300)
        assert toy(a).endswith(TOY_LINE)
        took = time.monotonic() - t0
        timing("rollout: the single-host steps by hand, same party, bare -> toy", took)
        rollout = getattr(ctl, "rollout_seconds", None)
        if rollout:
            timing(f"rollout: fate-deploy / by hand = {rollout / took:.2f}x", rollout / took)
    finally:
        manual.close()

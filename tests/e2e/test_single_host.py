"""Single host, all in one (party 9999), then day 2 on the same host: the user's story
exactly, on a real systemd with a real package manager and a real MariaDB.

The tests run in file order and build on each other (one container for the module: a FATE
install is the expensive part).
"""

from __future__ import annotations

import shutil
import time

import pytest

from .party import all_in_one
from .scenario import (
    DNF,
    DROP,
    FATE_RPMS,
    PORTS,
    TOY_LINE,
    UNITS,
    active_units,
    closed_ports,
    configure,
    install_bundle,
    prepare_os,
    snapshot,
    start_target,
    status,
    timing,
    toy,
    wait_status_green,
)

pytestmark = [pytest.mark.root, pytest.mark.slow]

PARTY = all_in_one(9999, "127.0.0.1")
#: A %config(noreplace) file (fate-board's); an admin's local edit to it must survive.
EDITED = "/data/projects/fate/fateboard/conf/application.properties"
CONFIG_DIRS = ("/etc/fate", "/data/projects/fate/eggroll/conf",
               "/data/projects/fate/python/arch/conf", "/data/projects/fate/fateboard/conf",
               "/data/projects/fate/common/mysql/mysql-8.0.13/conf",
               "/data/projects/fate/init_env.sh")


@pytest.fixture(scope="module")
def box(boxes, drop):
    return boxes("fate1", binds={DROP: drop})


def all_endpoints() -> list[tuple[str, int]]:
    return [("127.0.0.1", p) for ports in PORTS.values() for p in ports]


def test_install_sh_installs_the_bundle(box):
    prepare_os(box)
    out = install_bundle(box).stdout
    assert "install.sh: all files match SHA256SUMS" in out
    installed = box.run("rpm", "-q", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\n",
                        *FATE_RPMS).stdout.split()
    assert installed == [f"{n}-1.4.5-1" for n in FATE_RPMS]
    # fate-common's %pre made the service account, and rpm gave it its trees
    assert box.run("id", "-un", "app").stdout.strip() == "app"
    assert box.run("stat", "-c", "%U:%G", "/data/logs/fate").stdout.strip() == "app:apps"
    # the preset enabled the units (%post) but nothing runs before fate-configure
    assert box.run("systemctl", "is-enabled", "fate.target").stdout.strip() == "enabled"
    assert set(active_units(box).values()) == {"inactive"}


def test_fate_configure_applies_the_party(box):
    proc = configure(box, PARTY)
    assert proc.returncode == 0
    env = box.run("ls", "/etc/fate/env").stdout.split()
    assert sorted(env) == sorted(f"{u}.env" for u in UNITS)
    assert box.run("stat", "-c", "%a %U", "/etc/fate/secrets.yaml").stdout.split() == \
        ["600", "root"]


def test_start_target_brings_every_service_up(box):
    seconds = start_target(box)
    timing("single host: systemctl start fate.target -> healthy", seconds)
    assert active_units(box) == dict.fromkeys(UNITS, "active")
    assert closed_ports(box, all_endpoints()) == []
    rc, rows = status(box)
    assert rc == 0
    assert sorted(rows) == sorted(UNITS), rows
    assert all(r["healthy"] for r in rows.values()), rows


def test_toy_example_succeeds(box):
    assert toy(box).endswith(TOY_LINE)


def test_fate_and_our_tools_run_on_the_hosts_python36(box):
    """As on CentOS 7: python3 is 3.6, fate_flow runs on it through the Miniconda's
    launcher, and our tools do too; no build-host interpreter is involved."""
    pid = box.show("fate-flow.service", "MainPID")["MainPID"]
    assert box.run("readlink", f"/proc/{pid}/exe").stdout.strip() == "/usr/bin/python3.6"
    assert box.run("python3", "-c", "import sys; print(sys.version_info[:2])").stdout.strip() \
        == "(3, 6)"
    tools = box.sh("head -c 2000 /usr/bin/fate-ctl; fate-ctl --help >/dev/null && echo ok")
    assert "/usr/bin/python3 " in tools.stdout and tools.stdout.rstrip().endswith("ok")


def test_mysql_has_the_databases_and_the_server_nodes(box):
    dbs = box.mysql("SHOW DATABASES").split()
    assert {"eggroll_meta", "fate_flow"} <= set(dbs)
    rows = box.mysql("SELECT node_type, host, port FROM eggroll_meta.server_node "
                     "ORDER BY node_type").splitlines()
    assert [r.split("\t") for r in rows] == [["CLUSTER_MANAGER", "127.0.0.1", "4670"],
                                             ["NODE_MANAGER", "127.0.0.1", "4671"]]


def test_rerunning_fate_configure_changes_nothing(box):
    before = snapshot(box, *CONFIG_DIRS)
    pids = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    proc = configure(box, PARTY)
    assert proc.returncode == 0
    assert snapshot(box, *CONFIG_DIRS) == before
    assert {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS} == pids
    diff = box.run("fate-configure", "/root/party.yaml", "--check", "--diff")
    assert diff.returncode == 0


@pytest.mark.parametrize("unit", UNITS)
def test_kill_9_is_restarted_by_systemd(box, unit):
    # Only properties systemd 219 has (NRestarts is new in 235): a new main process,
    # started later than the killed one.
    started = "ExecMainStartTimestampMonotonic"
    first = box.show(f"{unit}.service", "MainPID", started)
    before = first["MainPID"]
    assert before != "0"
    box.run("kill", "-9", before)
    deadline = time.monotonic() + 60
    props = {}
    while time.monotonic() < deadline:
        props = box.show(f"{unit}.service", "MainPID", "ActiveState", started)
        if props["ActiveState"] == "active" and props["MainPID"] not in ("0", before):
            break
        time.sleep(0.5)
    assert props["ActiveState"] == "active" and props["MainPID"] not in ("0", before), props
    assert int(props[started]) > int(first[started])
    wait_status_green(box)


def test_upgrade_keeps_edited_config_and_data_and_restarts(box, drop, rpms2):
    box.sh(f"echo '# site edit kept across upgrades' >> {EDITED}")
    box.mysql("CREATE TABLE IF NOT EXISTS fate_flow.e2e_marker (v VARCHAR(20)); "
              "INSERT INTO fate_flow.e2e_marker VALUES ('before-upgrade')")
    meta_before = box.mysql("SELECT node_type, host, port FROM eggroll_meta.server_node "
                            "ORDER BY node_type")
    pids = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    (drop / "rpms2").mkdir()
    for rpm in rpms2.glob("fate-*.rpm"):
        shutil.copy2(rpm, drop / "rpms2")
    box.sh(f"rm -rf /var/tmp/fate-update && cp -r {DROP}/rpms2 /var/tmp/fate-update && "
           "createrepo_c -q /var/tmp/fate-update && "
           f"{DNF} --repofrompath=update,file:///var/tmp/fate-update --disablerepo='*' "
           "--enablerepo=update upgrade", timeout=600)
    installed = box.run("rpm", "-q", "--qf", "%{NAME}-%{RELEASE}\n", *FATE_RPMS).stdout.split()
    assert installed == [f"{n}-2" for n in FATE_RPMS]
    assert "# site edit kept across upgrades" in box.read(EDITED)
    assert box.mysql("SELECT v FROM fate_flow.e2e_marker").split() == ["before-upgrade"]
    assert box.mysql("SELECT node_type, host, port FROM eggroll_meta.server_node "
                     "ORDER BY node_type") == meta_before
    wait_status_green(box)
    after = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    restarted = [u for u in UNITS if after[u] != pids[u]]
    assert restarted == list(UNITS), (pids, after)
    assert active_units(box) == dict.fromkeys(UNITS, "active")


def test_reboot_brings_fate_target_back(box):
    seconds = box.reboot()
    t0 = time.monotonic()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and active_units(box) != dict.fromkeys(UNITS, "active"):
        time.sleep(1)
    assert active_units(box) == dict.fromkeys(UNITS, "active")
    wait_status_green(box)
    timing("single host: reboot -> fate.target healthy", seconds + time.monotonic() - t0)
    assert box.run("systemctl", "is-active", "fate.target").stdout.strip() == "active"
    assert box.mysql("SELECT v FROM fate_flow.e2e_marker").split() == ["before-upgrade"]


def test_uninstall_removes_packages_but_keeps_data_and_configs(box):
    out = box.sh("/opt/bundle/fate-bundle-*/install.sh --uninstall", timeout=300).stdout
    assert "configs under /etc/fate are kept" in out
    left = box.run("rpm", "-qa", "fate-*").stdout.split()
    assert left == []
    assert box.run("ls", "/etc/yum.repos.d/fate-local.repo", check=False).returncode != 0
    assert active_units(box) == dict.fromkeys(UNITS, "inactive")
    kept = box.sh("ls -d /etc/fate/party.yaml /etc/fate/secrets.yaml /etc/fate/env/fate-flow.env "
                  "/data/projects/data/fate/mysql/eggroll_meta /data/projects/data/fate/mysql/"
                  "fate_flow/e2e_marker.frm").stdout.split()
    assert len(kept) == 5
    # the edited %config(noreplace) file is kept aside, as rpm does (.rpmsave)
    assert "# site edit kept across upgrades" in box.read(EDITED + ".rpmsave")


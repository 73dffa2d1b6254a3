"""Single host, all in one (party 9999), then day 2 on the same host: the user's story
exactly, on a real systemd with a real package manager and a real MariaDB.

The tests run in file order and build on each other (one container for the module: a FATE
install is the expensive part).
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from packager.onhost import catalogue

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


#: What the day-2 tests hand each other: the first backup and the rows it holds.
SAVED: dict[str, str] = {}
BACKUPS = "/data/projects/data/fate/backups"
JOBS = "SELECT * FROM fate_flow.t_job ORDER BY f_job_id"
NODES = "SELECT node_type, host, port FROM eggroll_meta.server_node ORDER BY node_type"


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


def test_backup_writes_one_0600_archive(box):
    SAVED["jobs"] = box.mysql(JOBS)
    assert SAVED["jobs"].count("\n") >= 1, "the toy example left its job in t_job"
    proc = box.run("fate-ctl", "backup", "--json")
    result = json.loads(proc.stdout)
    assert result["path"].startswith(BACKUPS + "/fate-backup-guest-9999-127.0.0.1-")
    assert result["mysql"] is True
    assert box.run("stat", "-c", "%a %U", result["path"]).stdout.split() == ["600", "root"]
    listing = box.run("tar", "-tzf", result["path"]).stdout.split()
    assert {"manifest.json", "mysql/dump.sql", "files/etc/fate/secrets.yaml",
            "files/etc/fate/party.yaml",
            "files/data/projects/fate/eggroll/conf/route_table.json"} <= set(listing)
    SAVED["backup"] = result["path"]


def test_rerunning_fate_configure_changes_nothing(box):
    before = snapshot(box, *CONFIG_DIRS)
    pids = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    proc = configure(box, PARTY)
    assert proc.returncode == 0
    assert snapshot(box, *CONFIG_DIRS) == before
    assert {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS} == pids
    diff = box.run("fate-configure", "/root/party.yaml", "--check", "--diff")
    assert diff.returncode == 0


def test_a_new_peer_route_restarts_only_rollsite(box):
    """eggroll 2.0.2's rollsite reads route_table.json only at start: fate-configure restarts
    it, and only it (fate_flow, MySQL and the managers do not read the file)."""
    pids = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    out = configure(box, all_in_one(9999, "127.0.0.1", peer=("10.9.9.9", 9370))).stdout
    assert "restarted fate-rollsite (route_table.json changed)" in out, out
    assert [line for line in out.splitlines() if "restarted" in line] == [
        "fate-configure: restarted fate-rollsite (route_table.json changed)"]
    after = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    assert [u for u in UNITS if after[u] != pids[u]] == ["fate-rollsite"]
    table = json.loads(box.read("/data/projects/fate/eggroll/conf/route_table.json"))
    assert table["route_table"]["default"]["default"][0]["ip"] == "10.9.9.9"
    wait_status_green(box)


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


#: Start stage of each unit (units/services.yaml), the order an upgrade must restart in.
STAGE = {s.unit: s.stage for s in catalogue.load()}
#: systemd's catalogue ids of "Started <unit>" and "Stopped <unit>" (journal MESSAGE_ID).
STARTED, STOPPED = "39f53479d3a045ac8e11786248231fbf", "9d1aaa27d60140bd96365438aad20286"


def journal_cursor(box) -> str:
    return json.loads(box.run("journalctl", "-n", "1", "-o", "json").stdout)["__CURSOR"]


def unit_events(box, cursor: str) -> list[tuple[str, str]]:
    """("started" | "stopped", FATE unit) after ``cursor``, as systemd logged them."""
    out = box.run("journalctl", f"--after-cursor={cursor}", "-o", "json",
                  f"MESSAGE_ID={STARTED}", f"MESSAGE_ID={STOPPED}").stdout
    kinds = {STARTED: "started", STOPPED: "stopped"}
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [(kinds[r["MESSAGE_ID"]], r["UNIT"][:-len(".service")]) for r in rows
            if r.get("UNIT", "").endswith(".service") and r["UNIT"][:-8] in STAGE]


def assert_started_once_each_in_order(events: list[tuple[str, str]]) -> None:
    starts = [unit for kind, unit in events if kind == "started"]
    assert sorted(starts) == sorted(UNITS), events
    assert [STAGE[u] for u in starts] == sorted(STAGE[u] for u in starts), events


def upgrade_to_release_2(box, drop, rpms2) -> str:
    """The update as the user runs it: the release-2 bundle's install.sh."""
    if not (drop / "bundle2.tar").exists():
        (bundle2,) = rpms2.glob("fate-bundle-*.tar")
        shutil.copy2(bundle2, drop / "bundle2.tar")
    out = box.sh(f"mkdir -p /opt/bundle2 && tar -xf {DROP}/bundle2.tar -C /opt/bundle2 && "
                 "/opt/bundle2/fate-bundle-*/install.sh", timeout=600).stdout
    installed = box.run("rpm", "-q", "--qf", "%{NAME}-%{RELEASE}\n", *FATE_RPMS).stdout.split()
    assert installed == [f"{n}-2" for n in FATE_RPMS]
    return out


def test_upgrade_backs_up_restarts_in_order_and_the_toy_runs_at_once(box, drop, rpms2):
    box.sh(f"echo '# site edit kept across upgrades' >> {EDITED}")
    box.mysql("CREATE TABLE IF NOT EXISTS fate_flow.e2e_marker (v VARCHAR(20)); "
              "INSERT INTO fate_flow.e2e_marker VALUES ('before-upgrade')")
    meta_before = box.mysql(NODES)
    pids = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    cursor = journal_cursor(box)
    out = upgrade_to_release_2(box, drop, rpms2)
    assert "install.sh: backup: wrote " + BACKUPS in out, out
    assert "history undo last" in out  # the way back, said by the tool
    # at once, no waiting: the first job after an upgrade used to fail with (2013) Lost
    # connection to MySQL, fate-mysql being restarted after fate_flow
    assert toy(box).endswith(TOY_LINE)
    after = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    assert [u for u in UNITS if after[u] != pids[u]] == list(UNITS), (pids, after)
    assert_started_once_each_in_order(unit_events(box, cursor))
    assert "# site edit kept across upgrades" in box.read(EDITED)
    assert box.mysql("SELECT v FROM fate_flow.e2e_marker").split() == ["before-upgrade"]
    assert box.mysql(NODES) == meta_before
    backups = box.run("ls", BACKUPS).stdout.split()
    assert len(backups) == 2 and SAVED["backup"].rsplit("/", 1)[1] in backups  # none deleted


def test_rollback_with_history_undo_keeps_configs_and_data(box):
    """The way back install.sh names: the package manager's history undo (dnf here, yum on
    CentOS 7) with the previous bundle's repository."""
    pids = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    box.sh(f"{DNF} --repofrompath=previous,file://$(echo /opt/bundle/fate-bundle-*) "
           "--disablerepo='*' --enablerepo=previous history undo last", timeout=600)
    installed = box.run("rpm", "-q", "--qf", "%{NAME}-%{RELEASE}\n", *FATE_RPMS).stdout.split()
    assert installed == [f"{n}-1" for n in FATE_RPMS]
    assert "# site edit kept across upgrades" in box.read(EDITED)
    assert box.mysql("SELECT v FROM fate_flow.e2e_marker").split() == ["before-upgrade"]
    after = {u: box.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    assert all(after[u] != pids[u] for u in UNITS), (pids, after)
    wait_status_green(box)
    assert toy(box).endswith(TOY_LINE)


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


@pytest.fixture(scope="module")
def fresh(boxes, drop, rpms_old):
    """A new machine for the same party, with release 1 as a build before the ordered
    restarts made it (its %postun try-restarts; restored, then upgraded to release 2)."""
    (bundle,) = rpms_old.glob("fate-bundle-*.tar")
    shutil.copy2(bundle, drop / "bundle-old.tar")
    return boxes("fate1r", binds={DROP: drop})


def test_restore_on_a_fresh_host_brings_the_party_back(box, fresh):
    """A new machine for the same party (same address): install the bundle, restore the
    first backup; job history and server_node rows are the archive's, the toy passes."""
    prepare_os(fresh)
    install_bundle(fresh, "bundle-old.tar")
    archive = SAVED["backup"]
    src = box.merged / archive.lstrip("/")
    dest = fresh.merged / "root/party-backup.tar.gz"
    shutil.copy2(src, dest)
    bad = fresh.merged / "root/damaged.tar.gz"
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    proc = fresh.run("fate-ctl", "restore", "/root/damaged.tar.gz", check=False)
    assert proc.returncode == 1 and "damaged" in proc.stderr, proc.stderr
    assert fresh.run("ls", "/etc/fate/env").stdout.split() == []  # nothing changed
    out = fresh.run("fate-ctl", "restore", "/root/party-backup.tar.gz", timeout=600).stdout
    assert "loaded the MySQL dump" in out and "started fate.target" in out, out
    assert fresh.mysql(JOBS) == SAVED["jobs"]
    assert fresh.mysql(NODES).split() == ["CLUSTER_MANAGER", "127.0.0.1", "4670",
                                          "NODE_MANAGER", "127.0.0.1", "4671"]
    assert fresh.read("/etc/fate/secrets.yaml") == box.read("/etc/fate/secrets.yaml")
    wait_status_green(fresh)
    assert toy(fresh).endswith(TOY_LINE)


def test_an_upgrade_from_a_build_with_the_old_postun_restarts_in_order(fresh, drop, rpms2):
    """The hosts in the field run builds whose %postun try-restarts its own units in
    transaction order (it restarted fate-mysql after fate_flow: the first job failed with
    (2013) Lost connection to MySQL). rpm runs that old %postun during this upgrade; the
    new %pre has stopped the units first, so it finds them stopped and %posttrans starts
    them once each in order."""
    old = fresh.run("rpm", "-q", "--scripts", "fate-mysql").stdout
    assert "systemctl try-restart fate-mysql.service" in old, "installed: the old kind"
    cursor = journal_cursor(fresh)
    upgrade_to_release_2(fresh, drop, rpms2)
    assert toy(fresh).endswith(TOY_LINE)  # at once
    events = unit_events(fresh, cursor)
    assert_started_once_each_in_order(events)
    first_start = [kind for kind, _ in events].index("started")
    stopped = events[:first_start]  # before the first start: each unit stopped, once
    assert {k for k, _ in stopped} == {"stopped"} and sorted(u for _, u in stopped) == \
        sorted(UNITS), events
    assert fresh.sh("ls -A /run/fate-pkg/restart 2>/dev/null", check=False).stdout == ""


def test_undo_back_to_the_old_build_restarts_in_order(fresh):
    """The way back install.sh names (history undo), to a build before the marks: that
    build has no %posttrans, so the outgoing packages' %postun restart the services, each
    set in start order; the last start of each service follows the stages."""
    pids = {u: fresh.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    cursor = journal_cursor(fresh)
    fresh.sh(f"{DNF} --repofrompath=previous,file://$(echo /opt/bundle/fate-bundle-*) "
             "--disablerepo='*' --enablerepo=previous history undo last", timeout=600)
    installed = fresh.run("rpm", "-q", "--qf", "%{NAME}-%{RELEASE}\n", *FATE_RPMS).stdout.split()
    assert installed == [f"{n}-1" for n in FATE_RPMS]
    assert "try-restart" in fresh.run("rpm", "-q", "--scripts", "fate-mysql").stdout
    assert toy(fresh).endswith(TOY_LINE)  # at once
    after = {u: fresh.show(f"{u}.service", "MainPID")["MainPID"] for u in UNITS}
    assert all(after[u] != pids[u] for u in UNITS), (pids, after)
    events = unit_events(fresh, cursor)
    last = {unit: i for i, (kind, unit) in enumerate(events) if kind == "started"}
    by_last = sorted(last, key=last.get)
    assert sorted(by_last) == sorted(UNITS) and \
        [STAGE[u] for u in by_last] == sorted(STAGE[u] for u in by_last), events
    assert fresh.sh("ls -A /run/fate-pkg/restart 2>/dev/null", check=False).stdout == ""

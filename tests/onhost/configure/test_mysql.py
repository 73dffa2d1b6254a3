"""MySQL steps against a real MariaDB (Debian's mariadb-server) on a private socket/port."""

import shutil
import subprocess

import pytest

from packager.onhost import probe
from packager.sample.payload import PAYLOAD
from tests.support.configure import DATA, party_file

from .mariadb import MariaDB, install_tree

#: The real eggroll 2.0.2 schema as the sample release ships it (one copy in the repo).
EGGROLL_SQL = PAYLOAD / "mysql/create-eggroll-meta-tables.sql"

pytestmark = [pytest.mark.root, pytest.mark.slow]

ROOT_PW = "Sample-Root-Pw-1"
FATE_PW = "Sample-Fate-Pw-1"
EGGROLL_TABLES = ["server_node", "session_main", "session_option", "session_processor",
                  "store_locator", "store_option", "store_partition"]


def party_text(port: int, extra_nodemanager: str = "") -> str:
    text = (DATA / "guest-3hosts.yaml").read_text()
    text = text.replace("    ips: [10.0.1.3]\n", f"    ips: [10.0.1.3]\n    port: {port}\n")
    if extra_nodemanager:
        text = text.replace("ips: [10.0.1.2, 10.0.1.3]", f"ips: [10.0.1.2, 10.0.1.3, "
                                                         f"{extra_nodemanager}]")
    return text


@pytest.fixture
def tree(short_root):
    """The scratch root with a MySQL tree (bin/mysql etc.) and eggroll's SQL installed."""
    install_tree(short_root)
    deploy = short_root / "data/projects/fate/eggroll/deploy"
    deploy.mkdir(parents=True)
    shutil.copy(EGGROLL_SQL, deploy)
    return short_root


@pytest.fixture
def running(tree):
    """A freshly initialized MariaDB already running where FATE's MySQL would be."""
    server = MariaDB(tree)
    server.initialize()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def configure(fc, party, root, *extra):
    result = fc(party, "--root", root, "--host", "10.0.1.3", "--account", "root:root", *extra)
    assert ROOT_PW not in result.out + result.err and FATE_PW not in result.out + result.err
    return result


def mysql_lines(out: str):
    return [line.split("mysql: ", 1)[1] for line in out.splitlines() if "mysql: " in line]


def test_steps_on_a_running_server_then_nothing(tmp_path, running, fc):
    party = party_file(tmp_path, party_text(running.port))
    first = configure(fc, party, running.root)
    assert first.rc == 0, first.err
    assert mysql_lines(first.out) == [
        "set the root password (from the empty one of a fresh initialize)",
        "created database eggroll_meta",
        "created database fate_flow",
        "loaded /data/projects/fate/eggroll/deploy/create-eggroll-meta-tables.sql into "
        "eggroll_meta",
        "created user fate@10.0.1.2",
        "granted ALL on eggroll_meta.* to fate@10.0.1.2",
        "granted ALL on fate_flow.* to fate@10.0.1.2",
        "created user fate@10.0.1.3",
        "granted ALL on eggroll_meta.* to fate@10.0.1.3",
        "granted ALL on fate_flow.* to fate@10.0.1.3",
        "registered CLUSTER_MANAGER 10.0.1.2:4670",
        "registered NODE_MANAGER 10.0.1.2:4671",
        "registered NODE_MANAGER 10.0.1.3:4671",
    ]
    # what the server holds now, asked with Debian's client and the new root password
    assert running.query("SELECT 1", password="", check=False).returncode != 0
    assert [r[0] for r in running.rows("SHOW TABLES FROM eggroll_meta", ROOT_PW)] == \
        EGGROLL_TABLES
    assert sorted(running.rows("SELECT host, port, node_type, status FROM "
                               "eggroll_meta.server_node", ROOT_PW)) == [
        ["10.0.1.2", "4670", "CLUSTER_MANAGER", "HEALTHY"],
        ["10.0.1.2", "4671", "NODE_MANAGER", "HEALTHY"],
        ["10.0.1.3", "4671", "NODE_MANAGER", "HEALTHY"]]
    grants = "\n".join(r[0] for r in running.rows("SHOW GRANTS FOR 'fate'@'10.0.1.2'", ROOT_PW))
    assert "GRANT ALL PRIVILEGES ON `eggroll_meta`.* TO `fate`@`10.0.1.2`" in grants  # FATE#3833
    assert "GRANT ALL PRIVILEGES ON `fate_flow`.* TO `fate`@`10.0.1.2`" in grants
    hashes = running.rows(f"SELECT authentication_string = PASSWORD('{FATE_PW}') FROM mysql.user "
                          "WHERE user = 'fate' ORDER BY host", ROOT_PW)
    assert hashes == [["1"], ["1"]]

    second = configure(fc, party, running.root)
    assert second.rc == 0
    assert mysql_lines(second.out) == []
    assert "nothing changed: already configured" in second.out

    # a nodemanager added on a new host: only its account, grants and row are added
    party.write_text(party_text(running.port, extra_nodemanager="10.0.1.4"))
    third = configure(fc, party, running.root)
    assert third.rc == 0
    assert mysql_lines(third.out) == [
        "created user fate@10.0.1.4",
        "granted ALL on eggroll_meta.* to fate@10.0.1.4",
        "granted ALL on fate_flow.* to fate@10.0.1.4",
        "registered NODE_MANAGER 10.0.1.4:4671",
    ]
    count = running.rows("SELECT COUNT(*) FROM eggroll_meta.server_node", ROOT_PW)
    assert count == [["4"]]

    # ... and removed again: its account and its row go (eggroll would still send
    # sessions there); accounts fate-configure did not make stay as they are
    others = ["'fate'@'localhost'", "'fate'@'10.0.1.%'", "'fate'@'10.0.1.9'",
              "'other'@'10.0.1.8'", "'root'@'10.0.1.7'"]
    for account in others:
        running.query(f"CREATE USER {account} IDENTIFIED BY 'x'", ROOT_PW)
    running.query("GRANT SELECT ON *.* TO 'fate'@'10.0.1.9'", ROOT_PW)   # not our grant
    users_before = running.rows("SELECT user, host FROM mysql.user ORDER BY user, host",
                                ROOT_PW)
    party.write_text(party_text(running.port))
    fourth = configure(fc, party, running.root)
    assert fourth.rc == 0
    assert mysql_lines(fourth.out) == [
        "dropped user fate@10.0.1.4 (no longer in the party)",
        "removed NODE_MANAGER 10.0.1.4:4671 (no longer in the party)"]
    count = running.rows("SELECT COUNT(*) FROM eggroll_meta.server_node", ROOT_PW)
    assert count == [["3"]]
    users_after = running.rows("SELECT user, host FROM mysql.user ORDER BY user, host",
                               ROOT_PW)
    assert users_after == [u for u in users_before if u != ["fate", "10.0.1.4"]]
    assert ["fate", "10.0.1.4"] in users_before
    assert running.rows("SELECT COUNT(*) FROM mysql.db WHERE host = '10.0.1.4'", ROOT_PW) \
        == [["0"]]
    assert mysql_lines(configure(fc, party, running.root).out) == []   # converged


def test_changed_fate_password_is_applied_to_existing_accounts(tmp_path, running, fc):
    party = party_file(tmp_path, party_text(running.port))
    assert configure(fc, party, running.root).rc == 0
    party.write_text(party_text(running.port).replace(FATE_PW, "Other-Fate-Pw-2"))
    result = configure(fc, party, running.root)
    assert result.rc == 0
    assert mysql_lines(result.out) == ["changed the password of fate@10.0.1.2,10.0.1.3"]
    hashes = running.rows("SELECT authentication_string = PASSWORD('Other-Fate-Pw-2') FROM "
                          "mysql.user WHERE user = 'fate'", ROOT_PW)
    assert hashes == [["1"], ["1"]]


def test_wrong_root_password_is_one_clear_error(tmp_path, running, fc):
    running.query("ALTER USER 'root'@'localhost' IDENTIFIED BY 'Somebody-Elses-1'")
    party = party_file(tmp_path, party_text(running.port))
    result = configure(fc, party, running.root)
    assert result.rc == 1
    assert result.err.splitlines() == [
        "fate-configure: error: cannot log in to MySQL as root with the password in "
        "/etc/fate/secrets.yaml (nor an empty one); put the current root password there as "
        "mysql_root"]


def test_initialize_start_configure_and_stop_when_no_systemd(tmp_path, tree, fc):
    """Empty datadir: --initialize-insecure once, mysqld_safe for the steps, then stopped."""
    server = MariaDB(tree)  # only used to query; fate-configure starts the server itself
    party = party_file(tmp_path, party_text(server.port))
    try:
        first = configure(fc, party, tree)
        assert first.rc == 0, first.err
        lines = mysql_lines(first.out)
        assert lines[:3] == ["initialized /data/projects/data/fate/mysql",
                             "started for these steps (no running systemd here)",
                             "set the root password (from the empty one of a fresh initialize)"]
        assert lines[-1] == "stopped again; fate-mysql.service runs it from now on"
        assert not server.socket.exists() or server.query("SELECT 1", check=False).returncode
        second = configure(fc, party, tree)
        assert second.rc == 0
        assert [line for line in mysql_lines(second.out)
                if not line.startswith(("started for", "stopped again"))] == []
        assert "nothing changed: already configured" in second.out
    finally:
        pid = tree / "data/projects/fate/common/mysql/mysql-8.0.13/run/mysqld.pid"
        if pid.exists():  # a failed assertion above must not leave a server running
            subprocess.run(["kill", pid.read_text().strip()], check=False)


def test_the_mysql_readiness_probe_gets_a_real_server_greeting(running):
    """fate-waitport's mysql:// question against a real MariaDB; HTTP gets nothing."""
    assert probe.probe(probe.Endpoint("127.0.0.1", running.port, "mysql")) == probe.ANSWERING
    assert probe.probe(probe.Endpoint("127.0.0.1", running.port, "http")) == \
        probe.NOT_ANSWERING

"""eggroll 2.0.2 stand-ins (clustermanager, nodemanager, rollsite) against a real MariaDB."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from . import eggroll_setup as eg
from .conftest import DB_PASSWORD
from .helpers import free_port, set_properties


@pytest.fixture()
def ports() -> dict:
    return {name: free_port() for name in ("cm", "nm", "rs", "flow")}


@pytest.fixture()
def home(fate_home: Path, tmp_path: Path, mariadb, ports: dict) -> Path:
    home = eg.make_home(fate_home, tmp_path)
    eg.configure(home, db_port=mariadb.port, password=DB_PASSWORD, cm_port=ports["cm"],
                 nm_port=ports["nm"], rs_port=ports["rs"], party="9999",
                 flow_port=ports["flow"])
    return home


def _post(port: int, path: str, body: dict) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def test_cluster_runs_and_nodemanager_heartbeats(fate_home, home, mariadb, procs, ports):
    eg.register(mariadb, fate_home, ports["cm"], [ports["nm"]])
    env = eg.env(fate_home, home)
    cm_log, nm_log = home / "cm.out", home / "nm.out"
    cm = procs.start(eg.bootstrap_cmd(fate_home, home, eg.CM, ports["cm"]), cwd=home, env=env,
                     log=cm_log)
    procs.until_healthy(cm, ports["cm"], cm_log)
    nm = procs.start(eg.bootstrap_cmd(fate_home, home, eg.NM, ports["nm"]), cwd=home, env=env,
                     log=nm_log)
    procs.until_healthy(nm, ports["nm"], nm_log)
    query = (f"SELECT status, last_heartbeat_at IS NOT NULL FROM server_node WHERE "
             f"node_type = 'NODE_MANAGER' AND port = {ports['nm']};")
    deadline = time.time() + 10
    while mariadb.sql(fate_home, query, "eggroll_meta").split() != ["HEALTHY", "1"]:
        assert time.time() < deadline, nm_log.read_text()
        time.sleep(0.2)
    first = mariadb.sql(fate_home, f"SELECT last_heartbeat_at FROM server_node WHERE port = "
                                   f"{ports['nm']};", "eggroll_meta")
    time.sleep(1.5)
    later = mariadb.sql(fate_home, f"SELECT last_heartbeat_at FROM server_node WHERE port = "
                                   f"{ports['nm']};", "eggroll_meta")
    assert later > first  # heartbeats keep coming
    answer = _post(ports["cm"], "/v1/cluster-manager/session/getOrCreateSession",
                   {"session_id": f"test_{ports['cm']}"})
    assert answer["retcode"] == 0 and answer["processors"]
    assert mariadb.sql(fate_home, f"SELECT status FROM session_main WHERE session_id = "
                                  f"'test_{ports['cm']}';", "eggroll_meta").strip() == "ACTIVE"
    assert (home / "logs" / "eggroll" / "clustermanager.jvm.log").stat().st_size > 0
    assert "registered with clustermanager" in \
        (home / "logs" / "eggroll" / "nodemanager.jvm.log").read_text()


def test_rollsite_serves_its_party(fate_home, home, procs, ports):
    log = home / "rs.out"
    rs = procs.start(eg.rollsite_cmd(fate_home, home), cwd=home, env=eg.env(fate_home, home),
                     log=log)
    procs.until_healthy(rs, ports["rs"], log)
    _post(ports["rs"], "/v1/route/push", {"src_party": "9999", "dst_party": "9999",
                                          "kind": "data", "key": "k1", "payload": [1, 2]})
    assert _post(ports["rs"], "/v1/route/pull", {"key": "k1", "timeout": 2})["payload"] == [1, 2]
    assert (home / "logs" / "eggroll" / "rollsite.jvm.log").exists()


JDBC = "eggroll.resourcemanager.clustermanager.jdbc."


@pytest.mark.parametrize("change, message", [
    ({JDBC + "url": None}, f"missing key {JDBC}url"),
    ({JDBC + "password": "not-the-password"}, "Access denied for user 'fate'"),
    ({JDBC + "driver.class.name": "org.h2.Driver"}, "the cluster uses MySQL"),
    ({JDBC + "url": "jdbc:mysql://127.0.0.1:1/eggroll_meta"}, "Can't connect to MySQL server"),
    ({"eggroll.logs.dir": None}, "missing key eggroll.logs.dir"),
])
def test_clustermanager_bad_config_fails_loudly(fate_home, home, mariadb, procs, ports, change,
                                                message):
    eg.register(mariadb, fate_home, ports["cm"], [ports["nm"]])
    set_properties(home / "conf" / "eggroll.properties", change)
    run = procs.run_to_exit(eg.bootstrap_cmd(fate_home, home, eg.CM, ports["cm"]), cwd=home,
                            env=eg.env(fate_home, home))
    assert run.returncode == 1
    assert message in run.stdout
    assert run.stdout.count("\n") <= 3  # one clear line (plus the log line), no traceback
    assert "Traceback" not in run.stdout


def test_clustermanager_needs_its_server_node_row(fate_home, home, procs, ports):
    run = procs.run_to_exit(eg.bootstrap_cmd(fate_home, home, eg.CM, ports["cm"]), cwd=home,
                            env=eg.env(fate_home, home))
    assert run.returncode == 1
    assert f"server_node has no CLUSTER_MANAGER row for port {ports['cm']}" in run.stdout


def test_port_in_use_fails_loudly(fate_home, home, mariadb, procs, ports):
    eg.register(mariadb, fate_home, ports["cm"], [ports["nm"]])
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", ports["cm"]))
        taken.listen()
        run = procs.run_to_exit(eg.bootstrap_cmd(fate_home, home, eg.CM, ports["cm"]), cwd=home,
                                env=eg.env(fate_home, home))
    assert run.returncode == 1
    assert f"cannot listen on 0.0.0.0:{ports['cm']}" in run.stdout and "port in use" in run.stdout


def test_nodemanager_fails_when_clustermanager_never_answers(fate_home, home, procs, ports):
    run = procs.run_to_exit(eg.bootstrap_cmd(fate_home, home, eg.NM, ports["nm"]), cwd=home,
                            env=eg.env(fate_home, home, FATE_SAMPLE_PEER_TIMEOUT="1"))
    assert run.returncode == 1
    assert f"clustermanager at 127.0.0.1:{ports['cm']} did not answer heartbeats" in run.stdout


def test_nodemanager_without_row_is_refused(fate_home, home, mariadb, procs, ports):
    eg.register(mariadb, fate_home, ports["cm"], [free_port()])
    log = home / "cm.out"
    cm = procs.start(eg.bootstrap_cmd(fate_home, home, eg.CM, ports["cm"]), cwd=home,
                     env=eg.env(fate_home, home), log=log)
    procs.until_healthy(cm, ports["cm"], log)
    run = procs.run_to_exit(eg.bootstrap_cmd(fate_home, home, eg.NM, ports["nm"]), cwd=home,
                            env=eg.env(fate_home, home))
    assert run.returncode == 1
    assert f"no NODE_MANAGER row for 127.0.0.1:{ports['nm']}" in run.stdout


def test_wrong_classpath_fails_like_java(fate_home, home, procs, ports):
    cmd = eg.bootstrap_cmd(fate_home, home, eg.CM, ports["cm"])
    cmd[cmd.index("-cp") + 1] = f"{home}/conf/*:"  # no jars there
    run = procs.run_to_exit(cmd, cwd=home, env=eg.env(fate_home, home))
    assert run.returncode == 1
    expected = "Error: Could not find or load main class com.webank.eggroll.core.Bootstrap"
    assert expected in run.stdout


def test_unknown_bootstrap_class(fate_home, home, procs, ports):
    cmd = eg.bootstrap_cmd(fate_home, home, "com.webank.eggroll.core.NoSuchBootstrap", ports["cm"])
    run = procs.run_to_exit(cmd, cwd=home, env=eg.env(fate_home, home))
    assert run.returncode == 1
    assert "ClassNotFoundException: com.webank.eggroll.core.NoSuchBootstrap" in run.stdout


@pytest.mark.parametrize("table, message", [
    ("{not json", "is not valid JSON"),
    ('{"route_table": {"10000": {"default": [{"ip": "127.0.0.1", "port": 9370}]}}}',
     "has no entry for this party 9999"),
    ('{"route_table": {"9999": {"default": [{"ip": "127.0.0.1", "port": 9370}]}}}',
     'party 9999 has no "fateflow" route'),
    ('{"route_table": {"9999": {"default": [{"port": 9370}], "fateflow": []}}}',
     "must be a list of {ip, port}"),
])
def test_rollsite_bad_route_table(fate_home, home, procs, table, message):
    (home / "conf" / "route_table.json").write_text(table)
    run = procs.run_to_exit(eg.rollsite_cmd(fate_home, home), cwd=home,
                            env=eg.env(fate_home, home))
    assert run.returncode == 1 and message in run.stdout


def test_rollsite_missing_party_key(fate_home, home, procs):
    set_properties(home / "conf" / "eggroll.properties", {"eggroll.rollsite.party.id": None})
    run = procs.run_to_exit(eg.rollsite_cmd(fate_home, home), cwd=home,
                            env=eg.env(fate_home, home))
    assert run.returncode == 1 and "missing key eggroll.rollsite.party.id" in run.stdout

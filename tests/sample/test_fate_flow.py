"""fate_flow stand-in and the toy example: one party, two parties, and the timeout."""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path
from typing import Iterator

import pytest

from . import party_setup as ps
from .conftest import DB_PASSWORD
from .helpers import Processes, free_port

SUCCESS = "success to calculate secure_sum, it is 1999.9999999999998"


@pytest.fixture(scope="module")
def parties(fate_home: Path, scratch: Path, mariadb, venv: Path) -> Iterator[dict]:
    """Guest 9999 and host 10000, each with eggroll and fate_flow, routed to each other."""
    procs = Processes()
    a_ports = {n: free_port() for n in ("cm", "nm", "rs", "grpc", "http")}
    b_ports = {n: free_port() for n in ("cm", "nm", "rs", "grpc", "http")}
    a = ps.make_party(fate_home, scratch / "party-9999", mariadb, "9999",
                      default_hop=b_ports["rs"], ports=a_ports)
    b = ps.make_party(fate_home, scratch / "party-10000", mariadb, "10000",
                      default_hop=a_ports["rs"], ports=b_ports)
    try:
        for party in (a, b):
            ps.start_eggroll(party, fate_home, mariadb, procs)
            ps.start_flow(party, fate_home, venv, procs)
        yield {"guest": a, "host": b, "procs": procs}
    finally:
        procs.stop_all()


def test_toy_one_party(parties, fate_home, venv):
    guest = parties["guest"]
    run = ps.toy(guest, fate_home, venv, "9999", "9999")
    assert run.returncode == 0, run.stdout + run.stderr
    assert SUCCESS in run.stdout
    assert "secure_add_guest.py[line:" in run.stdout


def test_toy_two_parties_crosses_both_rollsites(parties, fate_home, venv, mariadb):
    guest, host = parties["guest"], parties["host"]
    run = ps.toy(guest, fate_home, venv, "9999", "10000")
    assert run.returncode == 0, run.stdout + run.stderr
    assert SUCCESS in run.stdout
    job_id = run.stdout.split('"jobId": "')[1].split('"')[0]
    rows = mariadb.sql(fate_home, f"SELECT f_role, f_party_id, f_status FROM t_job WHERE "
                                  f"f_job_id = '{job_id}' ORDER BY f_role;", "fate_flow")
    assert rows.split("\n")[:2] == ["guest\t9999\tsuccess", "host\t10000\tsuccess"]
    host_rs_log = (host.eggroll / "logs" / "eggroll" / "rollsite.jvm.log").read_text()
    assert f"stored {job_id}.guest_share.host.10000 from party 9999" in host_rs_log
    guest_rs_log = (guest.eggroll / "logs" / "eggroll" / "rollsite.jvm.log").read_text()
    assert f"forwarded {job_id}.guest_share.host.10000 for party 10000" in guest_rs_log
    assert (host.python / "logs" / job_id / "host" / "10000" / "secure_add_example_0"
            / "INFO.log").exists()


def _other_flow(parties: dict, fate_home: Path, scratch: Path, mariadb, name: str) -> ps.Party:
    """A second fate_flow tree for the guest party (its own ports), not started."""
    guest = parties["guest"]
    python = scratch / name / "python"
    shutil.copytree(fate_home / "python", python, symlinks=True)
    ports = dict(guest.ports, grpc=free_port(), http=free_port())
    ps.configure_flow(python, db_port=mariadb.port, password=DB_PASSWORD, ports=ports)
    return ps.Party(guest.party_id, scratch / name, guest.eggroll, python, ports)


@pytest.mark.parametrize("edit, message", [
    (("  passwd: fate_dev\n", ""), "missing key database.passwd"),
    (("  passwd: fate_dev\n", "  passwd: wrong\n"), "Access denied for user 'fate'"),
    (("work_mode: 1", "work_mode: 0"), "a cluster needs work_mode: 1"),
    (("fate_flow:\n", "fate_flow:\n  - broken\n"), "is not valid YAML"),
])
def test_flow_bad_base_conf(parties, fate_home, venv, scratch, mariadb, edit, message):
    flow = _other_flow(parties, fate_home, scratch, mariadb, f"flow-{abs(hash(message))}")
    base = flow.python / "arch" / "conf" / "base_conf.yaml"
    assert edit[0] in base.read_text()
    base.write_text(base.read_text().replace(edit[0], edit[1], 1))
    run = parties["procs"].run_to_exit(ps.flow_cmd(flow, venv), cwd=flow.python,
                                       env=flow.flow_env(fate_home, venv))
    assert run.returncode == 1, run.stdout
    assert message in run.stdout and "Traceback" not in run.stdout


def test_flow_port_in_use(parties, fate_home, venv, scratch, mariadb):
    flow = _other_flow(parties, fate_home, scratch, mariadb, "flow-port")
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", flow.ports["http"]))
        taken.listen()
        run = parties["procs"].run_to_exit(ps.flow_cmd(flow, venv), cwd=flow.python,
                                           env=flow.flow_env(fate_home, venv))
    assert run.returncode == 1
    assert f"fate_flow http cannot listen on 0.0.0.0:{flow.ports['http']}" in run.stdout


def test_flow_refuses_to_start_before_eggroll(fate_home, venv, scratch, mariadb):
    """FATE#1373: fate_flow started before clustermanager/rollsite must not come up."""
    party = ps.make_party(fate_home, scratch / "party-no-eggroll", mariadb, "8888")
    procs = Processes()
    try:
        run = procs.run_to_exit(ps.flow_cmd(party, venv), cwd=party.python,
                                env=party.flow_env(fate_home, venv, FATE_SAMPLE_PEER_TIMEOUT="1"))
    finally:
        procs.stop_all()
    assert run.returncode == 1
    assert (f"eggroll is not ready: eggroll clustermanager at 127.0.0.1:{party.ports['cm']} did "
            "not answer within 1s; start eggroll before fate_flow (FATE#1373)") in run.stdout


def test_flow_without_eggroll_pythonpath(parties, fate_home, venv):
    guest = parties["guest"]
    env = guest.flow_env(fate_home, venv)
    env["PYTHONPATH"] = str(guest.python)  # eggroll/python forgotten
    run = parties["procs"].run_to_exit(ps.flow_cmd(guest, venv), cwd=guest.python, env=env)
    assert run.returncode == 1
    assert "PYTHONPATH must include $EGGROLL_HOME/python" in run.stdout


def test_toy_times_out_when_host_eggroll_is_lost(parties, fate_home, venv, mariadb):
    """Last: stops the host's nodemanager, so the host task cannot get an eggroll session."""
    guest, host = parties["guest"], parties["host"]
    node = host.ports["nm_proc"]
    node.terminate()
    node.wait(timeout=10)
    mariadb.sql(fate_home, f"UPDATE server_node SET status = 'LOSS' WHERE node_type = "
                           f"'NODE_MANAGER' AND port = {host.ports['nm']};", host.dbname)
    start = time.time()
    run = ps.toy(guest, fate_home, venv, "9999", "10000", max_time=3)
    assert run.returncode == 1
    assert "ValueError: job running time exceed, please check federation or eggroll log" \
        in run.stderr
    assert time.time() - start < 30
    assert "job status is running" in run.stdout

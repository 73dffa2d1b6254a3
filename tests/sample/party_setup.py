"""A whole FATE party on one machine: eggroll (cm, nm, rollsite) and fate_flow."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import eggroll_setup as eg
from .conftest import DB_PASSWORD
from .helpers import Processes, free_port


@dataclass
class Party:
    party_id: str
    root: Path
    eggroll: Path
    python: Path
    ports: dict = field(default_factory=dict)
    dbname: str = "eggroll_meta"

    def flow_env(self, fate_home: Path, venv: Path, **extra: str) -> dict:
        values = eg.env(fate_home, self.eggroll, **extra)
        values.update(PYTHONPATH=f"{self.python}:{self.eggroll}/python", VIRTUAL_ENV=str(venv),
                      PATH=f"{venv}/bin:{values['PATH']}")
        return values


def make_party(fate_home: Path, root: Path, db, party_id: str, *,
               default_hop: int | None = None, ports: dict | None = None) -> Party:
    """Configured trees (not started) for one party; default_hop = the peer's rollsite port."""
    root.mkdir(parents=True)
    ports = ports or {name: free_port() for name in ("cm", "nm", "rs", "grpc", "http")}
    home = eg.make_home(fate_home, root)
    dbname = f"eggroll_meta_{party_id}"  # each party has its own MySQL in real life
    sql_file = fate_home / "eggroll" / "deploy" / "create-eggroll-meta-tables.sql"
    eg.create_meta_db(db, fate_home, sql_file,
                      dbname)
    eg.configure(home, db_port=db.port, password=DB_PASSWORD, cm_port=ports["cm"],
                 nm_port=ports["nm"], rs_port=ports["rs"], party=party_id,
                 flow_port=ports["grpc"], default_hop=default_hop, dbname=dbname)
    python = root / "python"
    shutil.copytree(fate_home / "python", python, symlinks=True)
    configure_flow(python, db_port=db.port, password=DB_PASSWORD, ports=ports)
    return Party(party_id, root, home, python, ports, dbname)


def configure_flow(python: Path, *, db_port: int, password: str, ports: dict) -> None:
    base = python / "arch" / "conf" / "base_conf.yaml"
    text = base.read_text()
    text = text.replace("work_mode: 0", "work_mode: 1")
    text = text.replace("http_port: 9380", f"http_port: {ports['http']}")
    text = text.replace("grpc_port: 9360", f"grpc_port: {ports['grpc']}")
    database = re.search(r"(?ms)^database:\n(?:  .*\n)+", text).group(0)
    text = text.replace(database, database.replace("passwd: fate\n", f"passwd: {password}\n")
                        .replace("port: 3306", f"port: {db_port}"))
    base.write_text(text)
    server = python / "arch" / "conf" / "server_conf.json"
    doc = json.loads(server.read_text())
    doc["servers"]["proxy"]["port"] = ports["rs"]
    doc["servers"]["fateflow"].update({"grpc.port": ports["grpc"], "http.port": ports["http"]})
    server.write_text(json.dumps(doc, indent=2))


def flow_cmd(party: Party, venv: Path) -> list:
    """``python /data/projects/fate/python/fate_flow/fate_flow_server.py`` in the venv."""
    return [str(venv / "bin" / "python"), str(party.python / "fate_flow" / "fate_flow_server.py")]


def start_eggroll(party: Party, fate_home: Path, db, procs: Processes) -> None:
    eg.register(db, fate_home, party.ports["cm"], [party.ports["nm"]], party.dbname)
    env = eg.env(fate_home, party.eggroll)
    for name, cmd in (("cm", eg.bootstrap_cmd(fate_home, party.eggroll, eg.CM, party.ports["cm"])),
                      ("nm", eg.bootstrap_cmd(fate_home, party.eggroll, eg.NM, party.ports["nm"])),
                      ("rs", eg.rollsite_cmd(fate_home, party.eggroll))):
        log = party.root / f"{name}.out"
        proc = procs.start(cmd, cwd=party.eggroll, env=env, log=log)
        procs.until_healthy(proc, party.ports[name], log)
        party.ports[name + "_proc"] = proc


def start_flow(party: Party, fate_home: Path, venv: Path, procs: Processes) -> None:
    log = party.root / "flow.out"
    proc = procs.start(flow_cmd(party, venv), cwd=party.python,
                       env=party.flow_env(fate_home, venv), log=log)
    procs.until_healthy(proc, party.ports["http"], log)


def toy(party: Party, fate_home: Path, venv: Path, guest: str, host: str, max_time: int = 60,
        timeout: float = 120):
    import subprocess

    env = party.flow_env(fate_home, venv, FATE_SAMPLE_TOY_MAX_TIME=str(max_time))
    folder = party.python / "examples" / "toy_example"
    return subprocess.run([str(venv / "bin" / "python"), "run_toy_example.py", guest, host, "1"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)



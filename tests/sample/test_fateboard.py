"""fateboard 1.4.2 stand-in: started with service.sh's java command line, against MariaDB."""

from __future__ import annotations

import json
import shutil
import socket
import urllib.request
from pathlib import Path

import pytest

from . import eggroll_setup as eg
from .conftest import DB_PASSWORD
from .helpers import free_port, set_properties


@pytest.fixture()
def board(fate_home: Path, tmp_path: Path, mariadb) -> tuple[Path, int]:
    home = tmp_path / "fateboard"
    shutil.copytree(fate_home / "fateboard", home, symlinks=True)
    port = free_port()
    set_properties(home / "conf" / "application.properties", {
        "server.port": str(port),
        "fateflow.url": "http://127.0.0.1:9380",
        "fateboard.datasource.jdbc-url":
            f"jdbc:mysql://127.0.0.1:{mariadb.port}/fate_flow?characterEncoding=utf8"
            "&characterSetResults=utf8&autoReconnect=true&failOverReadOnly=false"
            "&serverTimezone=GMT%2B8",
        "fateboard.datasource.username": "fate",
        "fateboard.datasource.password": DB_PASSWORD,
    })
    return home, port


def board_cmd(fate_home: Path, home: Path) -> list:
    """fateboard's service.sh command line (reference/fate-1.4-deploy.md §3)."""
    return [eg.java(fate_home), f"-Dspring.config.location={home}/conf/application.properties",
            f"-DFATE_DEPLOY_PREFIX={home.parent}/logs/", f"-Dssh_config_file={home}/ssh/",
            "-Xmx2048m", "-Xms2048m", "-XX:+PrintGCDetails", "-XX:+PrintGCDateStamps",
            "-Xloggc:gc.log", "-XX:+HeapDumpOnOutOfMemoryError", "-jar", f"{home}/fateboard.jar"]


def test_fateboard_serves_with_good_config(fate_home, board, procs):
    home, port = board
    log = home / "out.log"
    proc = procs.start(board_cmd(fate_home, home), cwd=home, env=eg.env(fate_home, home), log=log)
    procs.until_healthy(proc, port, log)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/job/query/totalrecord", timeout=5) as r:
        answer = json.loads(r.read())
    assert answer["code"] == 0 and isinstance(answer["data"], int)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
        assert "FATE Board" in r.read().decode()
    assert "database fate_flow at 127.0.0.1" in (home / "logs" / "fateboard.log").read_text()


@pytest.mark.parametrize("change, message", [
    ({"fateboard.datasource.password": "wrong"}, "Access denied for user 'fate'"),
    ({"fateboard.datasource.username": None}, "missing key fateboard.datasource.username"),
    ({"fateboard.datasource.jdbc-url": None}, "missing key fateboard.datasource.jdbc-url"),
    ({"server.port": None}, "missing key server.port"),
    ({"spring.datasource.driver-Class-Name": "org.h2.Driver"}, "expected com.mysql.cj.jdbc.Driver"),
])
def test_fateboard_bad_config(fate_home, board, procs, change, message):
    home, _ = board
    set_properties(home / "conf" / "application.properties", change)
    run = procs.run_to_exit(board_cmd(fate_home, home), cwd=home, env=eg.env(fate_home, home))
    assert run.returncode == 1 and message in run.stdout and "Traceback" not in run.stdout


def test_fateboard_port_in_use(fate_home, board, procs):
    home, port = board
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", port))
        taken.listen()
        run = procs.run_to_exit(board_cmd(fate_home, home), cwd=home, env=eg.env(fate_home, home))
    assert run.returncode == 1 and f"fateboard cannot listen on 0.0.0.0:{port}" in run.stdout


def test_fateboard_jar_must_exist(fate_home, board, procs):
    home, _ = board
    (home / "fateboard.jar").unlink()
    run = procs.run_to_exit(board_cmd(fate_home, home), cwd=home, env=eg.env(fate_home, home))
    assert run.returncode == 1 and f"Unable to access jarfile {home}/fateboard.jar" in run.stdout

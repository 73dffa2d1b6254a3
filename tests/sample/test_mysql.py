"""The sample MySQL 8.0.13 (MariaDB behind MySQL's command lines) and its Python client."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from packager.sample import payload

from .conftest import DB_PASSWORD, DB_USER, mysql_bin


@pytest.fixture(scope="module")
def client():
    """The sample's own MySQL client module, imported from the payload like the stand-ins do."""
    import importlib
    import sys

    sys.path.insert(0, str(payload.PAYLOAD / "kit"))
    try:
        yield importlib.import_module("fate_sample_mysql")
    finally:
        sys.path.remove(str(payload.PAYLOAD / "kit"))


def test_server_answers_mysql8_clients(fate_home, mariadb):
    out = mariadb.sql(fate_home, "SHOW DATABASES;")
    assert {"eggroll_meta", "fate_flow"} <= set(out.split())
    tables = mariadb.sql(fate_home, "SHOW TABLES;", "eggroll_meta").split()
    assert len(tables) == 7


def test_client_reads_rows_and_reports_errors(client, mariadb):
    with client.connect(port=mariadb.port, user=DB_USER, password=DB_PASSWORD,
                        database="eggroll_meta") as conn:
        conn.query("CREATE TEMPORARY TABLE t (a INT, b VARCHAR(20), c DATETIME)")
        result = conn.query("INSERT INTO t VALUES (1, 'x''y', NULL), (2, NULL, NOW())")
        assert result.affected_rows == 2
        rows = conn.query("SELECT a, b, c IS NULL AS n FROM t ORDER BY a").dicts()
        assert rows == [{"a": "1", "b": "x'y", "n": "1"}, {"a": "2", "b": None, "n": "0"}]
        assert conn.query(f"SELECT {client.escape(chr(92) + chr(39) + 'z')}").rows == [("\\'z",)]
        with pytest.raises(client.MySQLError) as err:
            conn.query("SELECT * FROM no_such_table")
        assert err.value.code == 1146
        conn.ping()
    with pytest.raises(client.MySQLError) as err:
        client.connect(port=mariadb.port, user=DB_USER, password="nope", database="fate_flow")
    assert err.value.code == 1045
    with pytest.raises(client.MySQLError) as err:
        client.connect(port=mariadb.port, user=DB_USER, password=DB_PASSWORD, database="nodb")
    assert err.value.code == 1049


def test_initialize_refuses_a_used_datadir(fate_home, tmp_path):
    datadir = tmp_path / "data"
    datadir.mkdir()
    (datadir / "ibdata1").write_text("x")
    run = subprocess.run([str(mysql_bin(fate_home, "mysqld")), "--initialize-insecure",
                          f"--datadir={datadir}"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "--initialize specified but the data directory has files in it" in run.stderr


def test_secure_initialize_is_not_faked(fate_home, tmp_path):
    run = subprocess.run([str(mysql_bin(fate_home, "mysqld")), "--initialize",
                          f"--datadir={tmp_path / 'd'}"], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1 and "only --initialize-insecure" in run.stderr


def test_missing_defaults_file(fate_home, tmp_path):
    run = subprocess.run([str(mysql_bin(fate_home, "mysqld")),
                          f"--defaults-file={tmp_path / 'none.cnf'}"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 1 and "Could not open required defaults file" in run.stderr


def test_no_mariadb_on_host_is_named(fate_home, tmp_path):
    env = dict(os.environ, FATE_SAMPLE_MARIADBD=str(tmp_path / "absent"))
    run = subprocess.run([str(mysql_bin(fate_home, "mysqld")), f"--datadir={tmp_path}"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 1
    assert f"FATE_SAMPLE_MARIADBD={tmp_path / 'absent'} is not an executable" in run.stderr


def test_mysql_wrapper_does_not_run_itself(fate_home, mariadb):
    """With the sample's bin/ first on PATH, bin/mysql must still reach MariaDB's client."""
    bin_dir = mysql_bin(fate_home, "mysql").parent
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    run = subprocess.run(["mysql", "-uroot", f"--socket={mariadb.socket}", "-e", "SELECT 42"],
                         capture_output=True, text=True, timeout=30, env=env)
    assert run.returncode == 0 and "42" in run.stdout


def test_wrong_socket_is_reported(fate_home, tmp_path: Path):
    run = subprocess.run([str(mysql_bin(fate_home, "mysql")), "-uroot",
                          f"--socket={tmp_path / 'no.sock'}", "-e", "SELECT 1"],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode != 0
    assert "Can't connect to local server through socket" in run.stderr

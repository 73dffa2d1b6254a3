"""Fixtures: the generated sample, its unpacked FATE tree, a private MariaDB, a venv."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from packager.sample import generate
from support import py36

from .helpers import Processes, free_port

DB_USER, DB_PASSWORD = "fate", "fate_dev"


@pytest.fixture(scope="session")
def scratch() -> Iterator[Path]:
    """One private temp dir for the session, removed at the end even on failure."""
    path = Path(tempfile.mkdtemp(prefix="fate-sample-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def sample_dir(scratch: Path) -> Path:
    out = scratch / "dist"
    generate(out)
    return out


def _untar(archive: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest)


@pytest.fixture(scope="session")
def fate_home(sample_dir: Path, scratch: Path) -> Path:
    """The artifacts unpacked as the 1.4.5 step-by-step install does, under a temp root."""
    install, home = scratch / "install", scratch / "fate"
    for archive in sample_dir.iterdir():
        _untar(archive, install)
    for inner in ("python", "eggroll", "fateboard"):
        _untar(install / "FATE_install_1.4.5-release" / f"{inner}.tar.gz", home)
    _untar(install / "mysql" / "mysql-8.0.13.tar.gz", home / "common" / "mysql")
    (home / "common" / "jdk").mkdir(parents=True)
    shutil.copytree(install / "jdk1.8.0_192", home / "common" / "jdk" / "jdk-8u192",
                    symlinks=True)
    return home


def mysql_bin(fate_home: Path, name: str) -> Path:
    return fate_home / "common" / "mysql" / "mysql-8.0.13" / "bin" / name


class MariaDB:
    def __init__(self, port: int, socket: Path) -> None:
        self.port, self.socket = port, socket

    def sql(self, fate_home: Path, statements: str, database: str = "") -> str:
        cmd = [str(mysql_bin(fate_home, "mysql")), "-uroot", f"--socket={self.socket}",
               "--batch", "--skip-column-names"]
        if database:
            cmd.append(database)
        run = subprocess.run(cmd, input=statements, text=True, capture_output=True, timeout=30)
        assert run.returncode == 0, run.stderr
        return run.stdout


@pytest.fixture(scope="session")
def mariadb(fate_home: Path, scratch: Path, sample_dir: Path) -> Iterator[MariaDB]:
    """A real MariaDB behind the sample's MySQL 8 command lines, on its own port/socket."""
    if not shutil.which("mariadbd") and not os.path.exists("/usr/sbin/mariadbd"):
        pytest.fail("mariadb-server is not installed (scripts/apt-packages.txt lists it)")
    base = scratch / "mysql"
    datadir, run_dir, log_dir = base / "data", base / "run", base / "log"
    for folder in (run_dir, log_dir):
        folder.mkdir(parents=True)
    port, user = free_port(), getpass.getuser()
    cnf = base / "my.cnf"
    stock = (scratch / "install" / "mysql" / "my.cnf").read_text()
    mysql_home = str(fate_home / "common" / "mysql" / "mysql-8.0.13")
    cnf.write_text(stock.replace("port=3306", f"port={port}")
                   .replace("/data/projects/data/fate/mysql", str(datadir))
                   .replace("/data/projects/fate/common/mysql/mysql-8.0.13/run", str(run_dir))
                   .replace("/data/projects/fate/common/mysql/mysql-8.0.13", mysql_home)
                   .replace("/data/logs/fate/mysql", str(log_dir)))
    init = subprocess.run([str(mysql_bin(fate_home, "mysqld")), "--initialize-insecure",
                           f"--user={user}", f"--basedir={mysql_home}", f"--datadir={datadir}"],
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    procs = Processes()
    server = procs.start([str(mysql_bin(fate_home, "mysqld_safe")), f"--defaults-file={cnf}",
                          f"--user={user}"], cwd=base, env=os.environ, log=base / "safe.log")
    db = MariaDB(port, run_dir / "mysql.sock")
    try:
        deadline = time.time() + 30
        while not db.socket.exists():
            assert server.poll() is None, (log_dir / "mysqld.log").read_text()
            assert time.time() < deadline, "MariaDB did not start"
            time.sleep(0.1)
        sql = (scratch / "install" / "mysql" / "create-eggroll-meta-tables.sql").read_text()
        db.sql(fate_home, sql)
        db.sql(fate_home, f"CREATE DATABASE IF NOT EXISTS fate_flow;"
                          f"CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';"
                          f"GRANT ALL ON *.* TO '{DB_USER}'@'127.0.0.1'; FLUSH PRIVILEGES;")
        yield db
    finally:
        procs.stop_all()


@pytest.fixture()
def procs() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.stop_all()


@pytest.fixture(scope="session")
def venv(fate_home: Path, scratch: Path) -> Path:
    """FATE's venv made as 1.4.5 makes it: Miniconda -b -p, virtualenv, pip --no-index."""
    env_dir = scratch / "install" / "python-env"
    miniconda, venv_dir = fate_home / "common" / "miniconda3", fate_home / "common/python/venv"
    env = dict(os.environ, FATE_SAMPLE_HOST_PYTHON=str(py36.python36()),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("VIRTUAL_ENV", None)
    steps = [
        ["sh", "Miniconda3-4.5.4-Linux-x86_64.sh", "-b", "-p", str(miniconda)],
        [str(miniconda / "bin" / "pip"), "install", "-q", "virtualenv-20.0.18-py2.py3-none-any.whl",
         "-f", ".", "--no-index"],
        [str(miniconda / "bin" / "virtualenv"), "-p", str(miniconda / "bin" / "python3.6"),
         "--no-wheel", "--no-setuptools", "--no-download", str(venv_dir)],
        ["tar", "xf", "pip-packages-fate-1.4.5.tar.gz"],
        [str(venv_dir / "bin" / "pip"), "install", "-q", "-r",
         "pip-packages-fate-1.4.5/requirements.txt", "-f", "./pip-packages-fate-1.4.5",
         "--no-index"],
    ]
    for cmd in steps:
        run = subprocess.run(cmd, cwd=env_dir, env=env, capture_output=True, text=True,
                             timeout=180)
        assert run.returncode == 0, f"{cmd}: {run.stdout}{run.stderr}"
    return venv_dir

"""A real MariaDB (Debian's mariadb-server) for the MySQL tests, private to one test.

The server gets its own datadir, socket and TCP port under the scratch root (the socket
where fate-configure expects FATE's MySQL: ``<root>/data/projects/fate/common/mysql/
mysql-8.0.13/run/mysql.sock``), and the MySQL tree's ``bin/mysql`` is Debian's client.
``stop`` is always called by the fixture, also when a test fails.
"""

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import List, Optional

MYSQL_HOME = "data/projects/fate/common/mysql/mysql-8.0.13"
DATADIR = "data/projects/data/fate/mysql"

# Test stand-ins for the MySQL 8 tree's programs, on top of Debian's MariaDB: the MySQL 8
# `mysqld --initialize-insecure` is MariaDB's installer; mysqld_safe is MariaDB's. --basedir
# is pointed at /usr, where MariaDB's own files are (the tree has only bin/).
MYSQLD = """#!/bin/sh
init=
for a in "$@"; do [ "$a" = --initialize-insecure ] && init=1; done
if [ -n "$init" ]; then
  set -- $(for a in "$@"; do case "$a" in --initialize-insecure|--socket=*|--pid-file=*) ;; \
*) echo "$a";; esac; done)
  exec /usr/bin/mariadb-install-db "$@" --basedir=/usr --auth-root-authentication-method=normal \
--skip-test-db
fi
exec /usr/sbin/mariadbd "$@" --basedir=/usr
"""
MYSQLD_SAFE = """#!/bin/sh
exec /usr/bin/mariadbd-safe "$@" --basedir=/usr
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def install_tree(root: Path) -> Path:
    """bin/mysql (Debian's client) and the two server stand-ins inside the MySQL tree."""
    bindir = root / MYSQL_HOME / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    (root / MYSQL_HOME / "run").mkdir(exist_ok=True)
    (root / MYSQL_HOME / "conf").mkdir(exist_ok=True)
    os.symlink("/usr/bin/mariadb", bindir / "mysql")
    for name, text in (("mysqld", MYSQLD), ("mysqld_safe", MYSQLD_SAFE)):
        (bindir / name).write_text(text)
        (bindir / name).chmod(0o755)
    return bindir


class MariaDB:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.socket = root / MYSQL_HOME / "run/mysql.sock"
        self.datadir = root / DATADIR
        self.proc: Optional[subprocess.Popen] = None

    def initialize(self) -> None:
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}",
                        "--auth-root-authentication-method=normal", "--skip-test-db",
                        "--user=root"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def start(self) -> None:
        log = self.root / "mariadb.err"
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
             f"--port={self.port}", "--bind-address=127.0.0.1", "--user=root",
             f"--pid-file={self.root / 'mariadb.pid'}", f"--log-error={log}",
             "--skip-name-resolve"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.query("SELECT 1", password="", check=False).returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("MariaDB did not start: " + (log.read_text() if log.exists() else ""))

    def query(self, sql: str, password: str = "", check: bool = True
              ) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot",
             f"--password={password}", "--batch", "--skip-column-names", "-e", sql],
            capture_output=True, text=True, check=check)

    def rows(self, sql: str, password: str) -> List[List[str]]:
        return [line.split("\t") for line in self.query(sql, password).stdout.splitlines()]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

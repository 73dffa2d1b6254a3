# FATE SAMPLE STAND-IN -- part of fate-pkg's miniature FATE 1.4.5 release, not WeBank code.
"""What eggroll 2.0.2's three services share: command line, EGGROLL_HOME, logs, DB access."""

import argparse
import os
import threading

from fate_sample_kit.service import Fatal, mysql_connect, parse_jdbc_url, require, setup_logging

JDBC = "eggroll.resourcemanager.clustermanager.jdbc."
MYSQL_DRIVER = "com.mysql.cj.jdbc.Driver"
META_TABLES = ("store_locator", "store_option", "store_partition", "server_node",
               "session_main", "session_option", "session_processor")


def parse_args(argv, module):
    """eggroll's Bootstrap options: -c config, -p port, -s process tag (server node id)."""
    parser = argparse.ArgumentParser(prog=module, add_help=False)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-p", "--port", type=int)
    parser.add_argument("-s", "--tag", default="EGGROLL_DAEMON")
    args, _ = parser.parse_known_args(argv)
    return args


def home():
    """EGGROLL_HOME (eggroll.sh exports it and cd's there), else the working directory."""
    return os.path.abspath(os.environ.get("EGGROLL_HOME") or os.getcwd())


def resolve(path):
    return path if os.path.isabs(path) else os.path.join(home(), path)


def logger(conf, source, module):
    log_dir = os.path.join(resolve(require(conf, "eggroll.logs.dir", source)), "eggroll")
    return setup_logging(log_dir, f"{module}.jvm.log", module)


class MetaDB:
    """The clustermanager's connection to eggroll_meta (one session, serialised by a lock)."""

    def __init__(self, conf, source):
        driver = require(conf, JDBC + "driver.class.name", source)
        if driver != MYSQL_DRIVER:
            raise Fatal(f"{source}: {JDBC}driver.class.name is {driver} but the cluster uses "
                        f"MySQL ({MYSQL_DRIVER})")
        self.host, self.port, self.database = parse_jdbc_url(require(conf, JDBC + "url", source),
                                                             source)
        self.user = require(conf, JDBC + "username", source)
        if conf.get(JDBC + "password") is None:
            raise Fatal(f"missing key {JDBC}password in {source}")
        self.password = conf[JDBC + "password"]
        self.lock = threading.Lock()
        self.conn = self._connect()

    def _connect(self):
        return mysql_connect(self.host, self.port, self.user, self.password, self.database,
                             "clustermanager")

    def query(self, sql):
        with self.lock:
            try:
                return self.conn.query(sql)
            except OSError:
                self.conn = self._connect()
                return self.conn.query(sql)

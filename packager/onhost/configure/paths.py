"""Target paths (docs/contracts.md "Paths on the target") and the --root prefix.

Everything fate-configure reads or writes is named here by its path on a real
CentOS 7 host; ``Root`` prefixes it when a test or an image build works on a tree.
"""

import os

FATE_HOME = "/data/projects/fate"
JAVA_HOME = FATE_HOME + "/common/jdk/jdk-8u192"
VENV = FATE_HOME + "/common/python/venv"
MYSQL_HOME = FATE_HOME + "/common/mysql/mysql-8.0.13"
MYSQL_CNF = MYSQL_HOME + "/conf/my.cnf"
MYSQL_SOCKET = MYSQL_HOME + "/run/mysql.sock"
MYSQL_PID = MYSQL_HOME + "/run/mysqld.pid"
MYSQL_DATA = "/data/projects/data/fate/mysql"
EGGROLL_HOME = FATE_HOME + "/eggroll"
EGGROLL_CONF = EGGROLL_HOME + "/conf/eggroll.properties"
ROUTE_TABLE = EGGROLL_HOME + "/conf/route_table.json"
EGGROLL_SQL = (EGGROLL_HOME + "/deploy/create-eggroll-meta-tables.sql",
               MYSQL_HOME + "/sql/create-eggroll-meta-tables.sql")
FATE_PYTHON = FATE_HOME + "/python"
PYTHONPATH = FATE_PYTHON + ":" + EGGROLL_HOME + "/python"
BASE_CONF = FATE_PYTHON + "/arch/conf/base_conf.yaml"
SERVER_CONF = FATE_PYTHON + "/arch/conf/server_conf.json"
FATEBOARD_HOME = FATE_HOME + "/fateboard"
FATEBOARD_CONF = FATEBOARD_HOME + "/conf/application.properties"
INIT_ENV = FATE_HOME + "/init_env.sh"
KEYS_DIR = "/data/projects/data/fate/keys"
LOGS = "/data/logs/fate"
ETC = "/etc/fate"
SECRETS = ETC + "/secrets.yaml"
STATE = ETC + "/state.yaml"
APPLIED_PARTY = ETC + "/party.yaml"
APPLIED_HOST = ETC + "/host"  # the party address this host was configured as
#: the nodemanager hosts' CPU count last given (--cores-per-node, from fate-deploy): a later
#: run without it (by hand, doctor, restore) renders the same processors.per.node
APPLIED_NODE_CORES = ETC + "/nodemanager-cpus"
ENV_DIR = ETC + "/env"
UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system")
SUPERVISOR_HOME = "/data/projects/common/supervisord"
SUPERVISOR_PROGRAMS = SUPERVISOR_HOME + "/supervisord.d"
PATH_TAIL = "/usr/local/bin:/usr/bin:/bin"
ACCOUNT = ("app", "apps")


class Root:
    """Maps target paths into an alternative root (``--root DIR``); ``/`` is identity."""

    def __init__(self, root: str = "/") -> None:
        self.root = os.path.abspath(root)

    @property
    def is_live(self) -> bool:
        """True when working on the running system rather than a tree."""
        return self.root == "/"

    def __call__(self, path: str) -> str:
        if self.is_live:
            return path
        return os.path.join(self.root, path.lstrip("/"))

"""The MySQL steps on the party's MySQL host, each idempotent and reporting what it did.

Talks to the server with the MySQL tree's own client over the socket, the password
in a 0600 ``--defaults-extra-file`` (never on a command line, where ``ps`` shows it).
Steps: initialize once (guarded: only when the datadir has no ``mysql`` schema), start
if not answering, set the root password, create eggroll's and fate_flow's databases,
load eggroll's real ``create-eggroll-meta-tables.sql`` when its tables are missing,
create ``fate@<ip>`` for every host of the party that logs in, grant what eggroll and
fate_flow need on their databases (a grant on fate_flow only is FATE#3833), drop the
``fate@<ip>`` accounts of addresses that left the party, and insert the ``server_node``
rows eggroll's cluster manager reads, only when absent.

Starting: when systemd runs it is ``systemctl start fate-mysql``; otherwise (image
builds, containers without systemd, tests) ``bin/mysqld_safe --defaults-file=my.cnf``
is started directly for the duration of the steps and shut down afterwards, so that
the unit owns the server from the first boot.
"""

import ipaddress
import os
import socket
import subprocess
import tempfile
import time
from typing import Callable, List, Optional, Sequence, Tuple

from packager.onhost import systemctl

from . import paths
from .errors import ApplyError
from .files import mask
from .paths import Root
from .plan import DbPlan

# Privileges an account needs on eggroll_meta / fate_flow (mysql.db columns).
NEEDED = ("Select_priv", "Insert_priv", "Update_priv", "Delete_priv", "Create_priv",
          "Drop_priv", "Index_priv", "Alter_priv")


#: Global privileges (mysql.user columns) fate-configure never gives its account: one set
#: means someone else made or changed that account, and it is left alone.
GLOBAL_PRIVS = ("Select_priv", "Insert_priv", "Update_priv", "Delete_priv", "Create_priv",
                "Drop_priv", "Grant_priv", "Super_priv", "File_priv", "Process_priv")

#: server_node rows fate-configure owns: the managers of the party YAML.
MANAGED_NODE_TYPES = ("CLUSTER_MANAGER", "NODE_MANAGER")


def quote(text: str) -> str:
    """A SQL string literal. Values are validated (no quotes or backslashes) before here;
    escaping anyway keeps this function safe on its own."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class Client:
    """Runs SQL through ``bin/mysql`` as root over the socket."""

    def __init__(self, root: Root, password: str, hide: Sequence[str] = ()) -> None:
        self.root = root
        self.password = password
        self.hide = tuple(hide) + (password,)
        self.binary = root(paths.MYSQL_HOME + "/bin/mysql")
        self.socket = root(paths.MYSQL_SOCKET)

    def run(self, sql: str, password: Optional[str] = None) -> List[List[str]]:
        pw = self.password if password is None else password
        fd, creds = tempfile.mkstemp(prefix="fate-configure-", suffix=".cnf")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: 0600, ours
                handle.write(f"[client]\nuser=root\npassword={pw}\nsocket={self.socket}\n")
            proc = subprocess.run(  # noqa: UP022 (capture_output is 3.7)
                [self.binary, "--defaults-extra-file=" + creds, "--batch",
                 "--skip-column-names", "--raw"],
                input=sql, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                encoding="utf-8", errors="replace", check=False)
        finally:
            os.unlink(creds)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            reason = lines[-1] if lines else f"exit code {proc.returncode}"
            # MySQL quotes the statement near an error: it may hold a password
            raise ApplyError("MySQL: " + mask(reason, self.hide + ((pw,) if pw else ())))
        return [line.split("\t") for line in proc.stdout.splitlines()]

    def works(self, password: str) -> bool:
        try:
            self.run("SELECT 1;", password)
            return True
        except ApplyError:
            return False


class MysqlSteps:
    def __init__(self, root: Root, db: DbPlan, sql_files: Sequence[str],
                 previous_root: Optional[str], systemd: bool,
                 report: Callable[[str], None], ids: Tuple[int, int] = (-1, -1)) -> None:
        self.root = root
        self.ids = ids  # uid/gid of the service account mysqld runs as
        self.db = db
        self.sql_files = sql_files
        self.previous_root = previous_root
        self.systemd = systemd
        self.report = report
        self.client = Client(root, db.root_password,
                             [v for v in (db.password, previous_root) if v])
        self.changed: List[str] = []
        self.started: Optional[subprocess.Popen] = None

    def did(self, what: str) -> None:
        self.changed.append(what)
        self.report("mysql: " + what)

    # -- server ------------------------------------------------------------------
    def initialized(self) -> bool:
        return os.path.isdir(self.root(paths.MYSQL_DATA + "/mysql"))

    def initialize(self) -> None:
        if self.initialized():
            return
        self.own_dirs()
        cmd = [self.root(paths.MYSQL_HOME + "/bin/mysqld"),
               "--defaults-file=" + self.root(paths.MYSQL_CNF), "--initialize-insecure",
               "--user=" + self.db.account] + self.relocated()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              encoding="utf-8", errors="replace", check=False)
        if proc.returncode != 0 or not self.initialized():
            tail = proc.stdout.strip().splitlines()[-1:] or ["no output"]
            raise ApplyError(f"mysqld --initialize-insecure failed ({tail[0]}); see "
                             f"{paths.LOGS}/mysql")
        self.did(f"initialized {paths.MYSQL_DATA}")

    def start(self) -> None:
        if self._alive():
            return
        if self.systemd and self.root.is_live:
            try:
                proc = systemctl.run("start", "fate-mysql.service", timeout=600)
            except systemctl.SystemctlError as exc:
                raise ApplyError(str(exc)) from None
            if proc.returncode != 0:
                raise ApplyError("systemctl start fate-mysql failed: " + proc.stdout.strip())
        else:
            self.own_dirs()
            log = open(os.devnull, "w")
            self.started = subprocess.Popen(
                [self.root(paths.MYSQL_HOME + "/bin/mysqld_safe"),
                 "--defaults-file=" + self.root(paths.MYSQL_CNF), "--user=" + self.db.account]
                + self.relocated(), stdout=log, stderr=log, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self._alive():
                self.report("mysql: started" if self.started is None else
                            "mysql: started for these steps (no running systemd here)")
                return
            if self.started is not None and self.started.poll() not in (None, 0):
                break
            time.sleep(0.2)
        raise ApplyError(f"MySQL did not answer on {paths.MYSQL_SOCKET} within 60 s; see "
                         f"{paths.LOGS}/mysql/mysqld.log")

    def own_dirs(self) -> None:
        """mysqld runs as the service account: the dirs it writes must exist and be its own.
        The RPMs create them; a missing one (a fresh --root tree) is created here."""
        for path in (paths.MYSQL_DATA, paths.MYSQL_HOME + "/run", paths.LOGS + "/mysql"):
            target = self.root(path)
            if not os.path.isdir(target):
                os.makedirs(target, mode=0o750)
                os.chown(target, self.ids[0], self.ids[1])

    def relocated(self) -> List[str]:
        """With --root, my.cnf names the target's paths: point mysqld at the tree instead."""
        if self.root.is_live:
            return []
        return ["--basedir=" + self.root(paths.MYSQL_HOME),
                "--datadir=" + self.root(paths.MYSQL_DATA),
                "--socket=" + self.root(paths.MYSQL_SOCKET),
                "--pid-file=" + self.root(paths.MYSQL_PID),
                "--log-error=" + self.root(paths.LOGS + "/mysql/mysqld.log")]

    def _alive(self) -> bool:
        """The socket accepts a connection (access denied still means alive)."""
        if not os.path.exists(self.client.socket):
            return False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(2)
        try:
            sock.connect(self.client.socket)
            return True
        except OSError:
            return False
        finally:
            sock.close()

    def stop_if_started(self) -> None:
        """Shut down a server this run started directly; the unit owns it afterwards."""
        if self.started is None:
            return
        try:
            self.client.run("SHUTDOWN;")
        except ApplyError:
            self.started.terminate()
        try:
            self.started.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.started.kill()
        deadline = time.time() + 30
        while self._alive() and time.time() < deadline:
            time.sleep(0.2)
        self.started = None
        self.report("mysql: stopped again; fate-mysql.service runs it from now on")

    # -- accounts and schema ---------------------------------------------------------
    def root_login(self) -> None:
        want = self.db.root_password
        if self.client.works(want):
            return
        for old in (self.previous_root, ""):
            if old is None or old == want or not self.client.works(old):
                continue
            self.client.run(f"ALTER USER 'root'@'localhost' IDENTIFIED BY {quote(want)};",
                            password=old)
            self.did("set the root password (from {})".format(
                "the previous one" if old else "the empty one of a fresh initialize"))
            return
        raise ApplyError(f"cannot log in to MySQL as root with the password in {paths.SECRETS} "
                         f"(nor an empty "
                         "one); put the current root password there as mysql_root")

    def databases(self) -> None:
        have = {row[0] for row in self.client.run("SHOW DATABASES;")}
        for name in self.db.databases:
            if name not in have:
                self.client.run(f"CREATE DATABASE IF NOT EXISTS {ident(name)} DEFAULT CHARACTER "
                                f"SET utf8;"
                                )
                self.did("created database " + name)

    def eggroll_tables(self) -> None:
        rows = self.client.run("SELECT COUNT(*) FROM information_schema.tables WHERE "
                               f"table_schema = {quote(self.db.eggroll_db)} AND table_name = "
                               f"'server_node';")
        if rows and rows[0][0] != "0":
            return
        for candidate in self.sql_files:
            path = self.root(candidate)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as handle:
                    sql = handle.read()
                self.client.run(f"USE {ident(self.db.eggroll_db)};\n{sql}")
                self.did(f"loaded {candidate} into {self.db.eggroll_db}")
                return
        raise ApplyError("eggroll's create-eggroll-meta-tables.sql is missing (looked in {}); "
                         "install the fate-eggroll package".format(", ".join(self.sql_files)))

    def users(self) -> None:
        user = self.db.user
        rows = self.client.run(f"SELECT Host FROM mysql.user WHERE User = {quote(user)};")
        existing = {row[0] for row in rows}
        for ip in self.db.client_ips:
            account = f"{quote(user)}@{quote(ip)}"
            if ip not in existing:
                self.client.run(f"CREATE USER {account} IDENTIFIED BY {quote(self.db.password)};")
                self.did(f"created user {user}@{ip}")
            for name in self.db.databases:
                if not self.has_grant(user, ip, name):
                    self.client.run(f"GRANT ALL PRIVILEGES ON {ident(name)}.* TO {account};")
                    self.did(f"granted ALL on {name}.* to {user}@{ip}")
        for host in sorted(existing - set(self.db.client_ips)):
            if self.ours(user, host):
                self.client.run(f"DROP USER {quote(user)}@{quote(host)};")
                self.did(f"dropped user {user}@{host} (no longer in the party)")

    def ours(self, user: str, host: str) -> bool:
        """Whether ``user@host`` is an account this tool makes: never root, never a
        loopback or wildcard host (we make one account per party address), and with no
        privileges beyond the ALL on the party's databases that we grant."""
        if user == "root":
            return False
        try:
            if ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:   # localhost, a host name, '%', '10.0.%'
            return False
        glob = " OR ".join(f"{col} = 'Y'" for col in GLOBAL_PRIVS)
        dbs = ", ".join(quote(d) for d in self.db.databases)
        rows = self.client.run(
            f"SELECT (SELECT COUNT(*) FROM mysql.user WHERE User = {quote(user)} AND "
            f"Host = {quote(host)} AND ({glob})) + (SELECT COUNT(*) FROM mysql.db WHERE "
            f"User = {quote(user)} AND Host = {quote(host)} AND Db NOT IN ({dbs}));")
        return bool(rows) and rows[0][0] == "0"

    def passwords(self, previous_fate: Optional[str]) -> None:
        """Existing fate@ accounts get the new password when it changed since last run."""
        if previous_fate is None or previous_fate == self.db.password:
            return
        for ip in self.db.client_ips:
            self.client.run(f"ALTER USER {quote(self.db.user)}@{quote(ip)} IDENTIFIED BY "
                            f"{quote(self.db.password)};")
        self.did("changed the password of {}@{}".format(self.db.user, ",".join(
            self.db.client_ips)))

    def has_grant(self, user: str, host: str, database: str) -> bool:
        checks = " AND ".join(f"{col} = 'Y'" for col in NEEDED)
        rows = self.client.run(f"SELECT COUNT(*) FROM mysql.db WHERE User = {quote(user)} AND "
                               f"Host = {quote(host)} AND "
                               f"Db = {quote(database)} AND {checks};")
        return bool(rows) and rows[0][0] != "0"

    def server_nodes(self) -> None:
        table = f"{ident(self.db.eggroll_db)}.server_node"
        rows = self.client.run(f"SELECT host, port, node_type FROM {table};")
        have = {(r[0], int(r[1]), r[2]) for r in rows if len(r) == 3}
        for host, port, kind in self.db.server_nodes:
            if (host, port, kind) not in have:
                self.client.run(f"INSERT INTO {table} (host, port, node_type, status) VALUES "
                                f"({quote(host)}, {int(port)}, {quote(kind)}, 'HEALTHY');")
                self.did(f"registered {kind} {host}:{port}")
        # The party YAML is the list of eggroll's nodes: a manager that left the party is
        # no longer offered to sessions (eggroll would send work to a stopped host).
        for host, port, kind in sorted(have - set(self.db.server_nodes)):
            if kind in MANAGED_NODE_TYPES:
                self.client.run(f"DELETE FROM {table} WHERE host = {quote(host)} AND port = "
                                f"{int(port)} AND node_type = {quote(kind)};")
                self.did(f"removed {kind} {host}:{port} (no longer in the party)")

    def run(self, previous_fate: Optional[str]) -> List[str]:
        try:
            self.initialize()
            self.start()
            self.root_login()
            self.databases()
            self.eggroll_tables()
            self.users()
            self.passwords(previous_fate)
            self.server_nodes()
            if self.changed:
                self.client.run("FLUSH PRIVILEGES;")
        finally:
            self.stop_if_started()
        return self.changed


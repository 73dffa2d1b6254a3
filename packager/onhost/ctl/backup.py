"""``fate-ctl backup``: everything needed to bring a party host back, in one 0600 archive.

What goes in (``archive.py`` has the layout): the party YAML fate-configure applied, the
secrets file, the address this host was configured as, every env file, every config file
fate-configure renders (eggroll.properties, route_table.json, base_conf.yaml,
server_conf.json, application.properties, my.cnf, init_env.sh), rollsite's TLS keys and
the party CA of ``fate-ctl certs``; on
the MySQL host one consistent ``mysqldump --single-transaction`` of the party's databases
(eggroll_meta and fate_flow, with fate_flow's job history); with ``--data`` the data
directories (eggroll's data, fate_flow's jobs and model cache).

Backups are never deleted by fate-ctl (nor by install.sh, which takes one before an
upgrade): each has its own time-stamped name in ``/data/projects/data/fate/backups``.
"""

import glob
import grp
import os
import pwd
import socket
import subprocess
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

from packager.onhost import __version__
from packager.onhost.configure import paths
from packager.onhost.configure.passwords import load as load_secrets
from packager.onhost.configure.pipeline import load_party
from packager.onhost.configure.plan import database_names
from packager.onhost.ctl import archive
from packager.onhost.ctl.host import Host

BACKUP_DIR = "/data/projects/data/fate/backups"
#: Where fate-ctl certs keeps the party CA (its key never goes into rollsite's keys dir).
CA_DIR = paths.ETC + "/ca"
#: Rendered by fate-configure (docs/fate-configure.md "Files written per host").
CONFIG_FILES = (paths.EGGROLL_CONF, paths.ROUTE_TABLE, paths.BASE_CONF, paths.SERVER_CONF,
                paths.FATEBOARD_CONF, paths.MYSQL_CNF, paths.INIT_ENV)
ETC_FILES = (paths.APPLIED_PARTY, paths.SECRETS, paths.APPLIED_HOST, paths.APPLIED_NODE_CORES)
DATA_DIRS = ("/data/projects/data/fate/eggroll", paths.FATE_PYTHON + "/jobs",
             paths.FATE_PYTHON + "/model_local_cache")
FATE_RPMS = ("fate-common", "fate-tools", "fate-jdk", "fate-python", "fate-mysql",
             "fate-eggroll", "fate-flow", "fate-board")


class BackupError(Exception):
    """Cannot back up (not configured, MySQL down, no space): nothing was written."""

    exit_code = 1


def _owner(info: os.stat_result) -> Tuple[str, str]:
    try:
        user = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        user = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    return user, group


def config_paths(host: Host) -> List[str]:
    """Target paths (not root-prefixed) of every config file present on this host."""
    env = sorted(os.path.join(paths.ENV_DIR, os.path.basename(p))
                 for p in glob.glob(host.path(paths.ENV_DIR + "/*.env")))
    keys: List[str] = []
    for top in (paths.KEYS_DIR, CA_DIR):  # rollsite's TLS files; the party CA and peer CAs
        for dirpath, dirs, names in os.walk(host.path(top)):
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(dirpath, name)
                keys.append("/" + os.path.relpath(full, host.path("/")))
    wanted = list(ETC_FILES) + env + list(CONFIG_FILES) + keys
    return [p for p in wanted if os.path.isfile(host.path(p))]


def data_files(host: Host) -> List[str]:
    out: List[str] = []
    for top in DATA_DIRS:
        for dirpath, dirs, names in os.walk(host.path(top)):
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(dirpath, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    out.append("/" + os.path.relpath(full, host.path("/")))
    return out


def installed_rpms(host: Host) -> Dict[str, str]:
    """name -> version-release of the FATE RPMs (empty where rpm is missing)."""
    argv = ["rpm", "-q", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\\n"]
    if host.root not in ("", "/"):
        argv += ["--root", host.root]
    try:
        out = subprocess.run(argv + list(FATE_RPMS), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, encoding="utf-8", errors="replace",
                             timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in FATE_RPMS:
            found[words[0]] = words[1]
    return found


def mysql_credentials(host: Host, password: str) -> str:
    """A 0600 client option file (never a password on a command line); caller unlinks."""
    fd, creds = tempfile.mkstemp(prefix="fate-ctl-", suffix=".cnf")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"[client]\nuser=root\npassword={password}\nsocket={host.path(paths.MYSQL_SOCKET)}\n")
    return creds


def dump_databases(host: Host, databases: List[str], password: str, target: str) -> str:
    """One consistent snapshot of ``databases`` into ``target``; returns the server version."""
    binary = host.path(paths.MYSQL_HOME + "/bin/mysqldump")
    if not os.access(binary, os.X_OK):
        raise BackupError(f"{paths.MYSQL_HOME}/bin/mysqldump is missing (fate-mysql package)")
    creds = mysql_credentials(host, password)
    try:
        with open(target, "wb") as out:
            proc = subprocess.run(
                [binary, "--defaults-extra-file=" + creds, "--single-transaction",
                 "--routines", "--triggers", "--add-drop-database", "--databases"]
                + databases, stdout=out, stderr=subprocess.PIPE, timeout=3600)
        if proc.returncode != 0:
            reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise BackupError("mysqldump failed: {} (is fate-mysql running?)".format(
                reason[0] if reason else f"exit code {proc.returncode}"))
        version = subprocess.run(
            [host.path(paths.MYSQL_HOME + "/bin/mysql"), "--defaults-extra-file=" + creds,
             "--batch", "--skip-column-names", "-e", "SELECT VERSION();"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, encoding="utf-8", errors="replace",
            timeout=60).stdout.strip()
    finally:
        os.unlink(creds)
    return version


def default_output(host: Host, label: str, address: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = "fate-backup-{}-{}-{}.tar.gz".format(label.replace(" ", "-"), address, stamp)
    return os.path.join(host.path(BACKUP_DIR), name)


def run(host: Host, output: Optional[str], with_data: bool,
        say: Callable[[str], None] = print) -> Dict[str, object]:
    """Write the archive; returns what the summary shows (path, members, bytes)."""
    party_file = host.path(paths.APPLIED_PARTY)
    if not os.path.isfile(party_file):
        raise BackupError(f"no {paths.APPLIED_PARTY}: fate-configure has not applied a party "
                          "on this host, there is nothing to back up")
    _, party = load_party(party_file)
    address = ""
    if os.path.isfile(host.path(paths.APPLIED_HOST)):
        with open(host.path(paths.APPLIED_HOST), encoding="utf-8") as handle:
            address = handle.read().strip()
    services = party.services_on(address) if address else []
    target = output or default_output(host, party.label, address or "unknown")
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    if os.path.exists(target):
        raise BackupError(f"{target} exists; backups are never overwritten (choose another -o)")
    writer = archive.Writer(target)
    manifest: Dict[str, object] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tool": "fate-ctl " + __version__,
        "party": {"role": party.role, "partyid": party.partyid, "label": party.label},
        "host": address, "hostname": socket.gethostname(), "services": services,
        "rpms": installed_rpms(host), "data": with_data, "mysql": None,
    }
    try:
        for path in config_paths(host):
            info = os.stat(host.path(path))
            writer.add_file("files" + path, host.path(path), _owner(info))
        say(f"backup: {len(writer.members)} config files")
        if "mysql" in services:
            secrets = load_secrets(paths.Root(host.root)) or {}
            if not secrets.get("mysql_root"):
                raise BackupError(f"{paths.SECRETS} has no mysql_root: cannot dump MySQL")
            databases = list(database_names(party))
            fd, tmp = tempfile.mkstemp(prefix="fate-dump-", dir=directory)
            os.close(fd)
            try:
                say("backup: mysqldump --single-transaction " + " ".join(databases))
                version = dump_databases(host, databases, secrets["mysql_root"], tmp)
                writer.add_file(archive.DUMP, tmp, ("root", "root"))
            finally:
                os.unlink(tmp)
            manifest["mysql"] = {"databases": databases, "server_version": version,
                                 "dump": archive.DUMP}
        if with_data:
            files = data_files(host)
            say(f"backup: {len(files)} data files")
            for path in files:
                writer.add_file("data" + path, host.path(path), _owner(os.stat(host.path(path))))
        writer.close(manifest)
    except BaseException:
        writer.abort()
        raise
    size = os.path.getsize(target)
    return {"path": target, "members": len(writer.members), "bytes": size,
            "mysql": manifest["mysql"] is not None, "data": with_data}

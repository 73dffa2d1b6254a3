"""``fate-ctl backup`` / ``restore`` on install trees with a real MariaDB each: the archive,
its checks, and a restore onto a fresh host that brings back the rows and the configs."""

import hashlib
import io
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path

import pytest

from packager.onhost.ctl import cli as ctl
from tests.support.configure import make_root, party_file, snapshot

from .mariadb import MariaDB, install_tree
from .test_mysql import EGGROLL_SQL, FATE_PW, ROOT_PW, configure, party_text

pytestmark = [pytest.mark.root, pytest.mark.slow]

JOBS = ("CREATE TABLE fate_flow.t_job (f_job_id VARCHAR(32) PRIMARY KEY, f_status "
        "VARCHAR(16)); INSERT INTO fate_flow.t_job VALUES ('202401010000001', 'success'), "
        "('202401010000002', 'failed')")
ROWS = ("SELECT * FROM fate_flow.t_job ORDER BY f_job_id",
        "SELECT host, port, node_type, status FROM eggroll_meta.server_node ORDER BY host, port")


def _host_tree():
    base = Path(tempfile.mkdtemp(prefix="fb-"))
    os.chmod(base, 0o755)
    make_root(base)
    bindir = install_tree(base)
    os.symlink("/usr/bin/mariadb-dump", bindir / "mysqldump")
    deploy = base / "data/projects/fate/eggroll/deploy"
    deploy.mkdir(parents=True)
    shutil.copy(EGGROLL_SQL, deploy)
    server = MariaDB(base)
    server.initialize()
    server.start()
    return base, server


@pytest.fixture
def hosts():
    """Two MySQL hosts of the same party, each its own tree and MariaDB: A (configured, with
    job history) and B (freshly installed: packages, an empty initialised server)."""
    made = []
    try:
        for _ in range(2):
            made.append(_host_tree())
        yield made
    finally:
        for base, server in made:
            server.stop()
            shutil.rmtree(base, ignore_errors=True)


def fate_ctl(capsys, root, *args):
    rc = ctl.main(["--root", str(root), "--account", "root:root", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def backed_up(tmp_path, hosts, fc, capsys):
    (a, server_a), _ = hosts
    party = party_file(tmp_path, party_text(server_a.port))
    assert configure(fc, party, a).rc == 0
    capsys.readouterr()
    server_a.query(JOBS, ROOT_PW)
    (a / "data/projects/data/fate/keys").mkdir(parents=True, exist_ok=True)
    (a / "data/projects/data/fate/keys/guest-server.key").write_text("KEY\n")
    os.chmod(a / "data/projects/data/fate/keys/guest-server.key", 0o600)
    (a / "etc/fate/ca").mkdir(mode=0o700)
    (a / "etc/fate/ca/guest-9999-ca.key").write_text("CA KEY\n")
    os.chmod(a / "etc/fate/ca/guest-9999-ca.key", 0o600)
    part = a / "data/projects/data/fate/eggroll/rollpair.lmdb/t1/0/data.mdb"
    part.parent.mkdir(parents=True)
    part.write_bytes(os.urandom(3 << 20))  # bigger than a read chunk
    out = tmp_path / "party.tar.gz"
    rc, stdout, stderr = fate_ctl(capsys, a, "backup", "-o", out, "--json", "--data")
    assert rc == 0, stderr
    return out, json.loads(stdout)


def test_backup_is_one_0600_archive_with_a_checksummed_manifest(backed_up, hosts):
    out, summary = backed_up
    assert summary["path"] == str(out) and summary["mysql"] is True and summary["data"] is True
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    with tarfile.open(out) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}
    manifest = json.loads(members.pop("manifest.json"))
    assert manifest["format"] == "fate-pkg-backup/1"
    assert manifest["party"] == {"role": "guest", "partyid": 9999, "label": "guest 9999"}
    assert manifest["host"] == "10.0.1.3"
    listed = {m["name"]: m["sha256"] for m in manifest["members"]}
    assert listed == {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    for path in ("/etc/fate/party.yaml", "/etc/fate/secrets.yaml", "/etc/fate/host",
                 "/etc/fate/env/fate-mysql.env", "/etc/fate/env/fate-nodemanager.env",
                 "/data/projects/fate/eggroll/conf/eggroll.properties",
                 "/data/projects/fate/common/mysql/mysql-8.0.13/conf/my.cnf",
                 "/data/projects/data/fate/keys/guest-server.key",
                 "/etc/fate/ca/guest-9999-ca.key"):
        assert "files" + path in members, path
    dump = members["mysql/dump.sql"].decode()
    assert "CREATE DATABASE" in dump and "`eggroll_meta`" in dump and "`fate_flow`" in dump
    assert "202401010000002" in dump  # the job history
    a = hosts[0][0]
    assert members["files/etc/fate/secrets.yaml"] == (a / "etc/fate/secrets.yaml").read_bytes()


def test_restore_on_a_fresh_host_brings_back_rows_and_configs(backed_up, hosts, capsys):
    out, _ = backed_up
    (a, server_a), (b, server_b) = hosts
    before = [server_a.rows(q, ROOT_PW) for q in ROWS]
    rc, stdout, stderr = fate_ctl(capsys, b, "restore", out)
    assert rc == 0, stderr + stdout
    assert ROOT_PW not in stdout + stderr and FATE_PW not in stdout + stderr
    assert [server_b.rows(q, ROOT_PW) for q in ROWS] == before
    assert before[0] == [["202401010000001", "success"], ["202401010000002", "failed"]]
    for rel in ("etc/fate/party.yaml", "etc/fate/secrets.yaml", "etc/fate/host",
                "data/projects/fate/eggroll/conf/eggroll.properties",
                "data/projects/fate/common/mysql/mysql-8.0.13/conf/my.cnf",
                "etc/fate/env/fate-mysql.env", "data/projects/data/fate/keys/guest-server.key",
                "etc/fate/ca/guest-9999-ca.key"):
        assert (b / rel).read_bytes() == (a / rel).read_bytes(), rel
        assert stat.S_IMODE((b / rel).stat().st_mode) == stat.S_IMODE((a / rel).stat().st_mode)
    assert re.search(r"^services +not started$", stdout, re.M)
    assert stat.S_IMODE((b / "etc/fate/ca").stat().st_mode) == 0o700
    assert re.search(r"^data files +1$", stdout, re.M)
    data = "data/projects/data/fate/eggroll/rollpair.lmdb/t1/0/data.mdb"
    assert (b / data).read_bytes() == (a / data).read_bytes()


def state(base: Path, server: MariaDB):
    """What a restore would change: /etc, FATE's trees (not the live datadir), the databases."""
    dbs = server.query("SHOW DATABASES", ROOT_PW, check=False).stdout + \
        server.query("SHOW DATABASES", "", check=False).stdout
    return snapshot(base / "etc"), snapshot(base / "data/projects/fate/eggroll"), dbs


def _corrupt(src: Path, dst: Path, where: float = 0.5) -> None:
    """Flip one byte inside the compressed stream: zlib, gzip's CRC or a sha256 must catch
    it, whichever comes first (a flip can make the deflate stream itself invalid)."""
    data = bytearray(src.read_bytes())
    data[int(len(data) * where)] ^= 0xFF
    dst.write_bytes(bytes(data))


def test_a_damaged_archive_is_refused_before_anything_changes(backed_up, hosts, capsys,
                                                              tmp_path):
    out, _ = backed_up
    b, server_b = hosts[1]
    before = state(b, server_b)
    flipped, truncated, changed = (tmp_path / f"bad{i}.tar.gz" for i in range(3))
    flips = [tmp_path / f"flip{i}.tar.gz" for i in range(8)]
    for i, bad in enumerate(flips):
        _corrupt(out, bad, 0.1 + i * 0.1)
    _corrupt(out, flipped)
    truncated.write_bytes(out.read_bytes()[: os.path.getsize(out) * 2 // 3])
    # well-formed, but the secrets differ from what the manifest says
    with tarfile.open(out) as src, tarfile.open(changed, "w:gz") as dst:
        for m in src:
            data = src.extractfile(m).read()
            if m.name == "files/etc/fate/secrets.yaml":
                data = data.replace(b"mysql_root", b"mysql_r00t")
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    for bad in [*flips, flipped, truncated, changed]:
        rc, _, stderr = fate_ctl(capsys, b, "restore", bad)
        assert rc == 1, bad
        assert stderr.startswith("fate-ctl: error: " + str(bad)), stderr
        assert state(b, server_b) == before
    assert "secrets.yaml does not match its sha256" in stderr


def test_a_foreign_archive_is_refused_before_anything_changes(backed_up, hosts, capsys,
                                                              tmp_path, fc):
    out, _ = backed_up
    b, server_b = hosts[1]
    other = party_text(server_b.port).replace("partyid: 9999", "partyid: 10000")
    assert configure(fc, party_file(tmp_path, other, "other.yaml"), b).rc == 0
    capsys.readouterr()
    before = state(b, server_b)
    rc, _, stderr = fate_ctl(capsys, b, "restore", out)
    assert rc == 1
    assert "guest 9999" in stderr and "guest 10000" in stderr and "foreign" in stderr
    assert state(b, server_b) == before
    # a backup is never overwritten; a host without an applied party has nothing to back up
    rc, _, stderr = fate_ctl(capsys, hosts[0][0], "backup", "-o", out)
    assert rc == 1 and "never overwritten" in stderr
    shutil.rmtree(b / "etc/fate")
    rc, _, stderr = fate_ctl(capsys, b, "backup")
    assert rc == 1 and "nothing to back up" in stderr



"""The generator: reproducible, matching sample-1.4.5.yaml, with the real release's shape."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from packager.sample import MANIFEST, generate
from packager.sample.filler import MIB

REAL = MANIFEST.with_name("fate-1.4.5.yaml")


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {info.name: info for info in tar.getmembers()}


def read(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        handle = tar.extractfile(name)
        assert handle is not None, name
        return handle.read()


def test_two_runs_are_identical_and_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    first = generate(tmp_path / "a")
    elapsed = time.perf_counter() - start
    second = generate(tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert elapsed < 5, f"generation took {elapsed:.1f}s"


def test_output_matches_the_sample_manifest(sample_dir: Path) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["release"] == "sample-1.4.5"
    listed = {item["name"]: item for item in manifest["artifacts"]}
    assert sorted(listed) == sorted(p.name for p in sample_dir.iterdir())
    for path in sample_dir.iterdir():
        data = path.read_bytes()
        assert listed[path.name]["size"] == len(data), path.name
        assert listed[path.name]["sha256"] == hashlib.sha256(data).hexdigest(), path.name


def test_sample_names_the_real_artifacts() -> None:
    real = yaml.safe_load(REAL.read_text())
    sample = yaml.safe_load(MANIFEST.read_text())
    strip = [{k: v for k, v in a.items() if k not in ("size", "sha256")}
             for a in sample["artifacts"]]
    assert strip == [{k: v for k, v in a.items() if k not in ("size", "sha256")}
                     for a in real["artifacts"]]
    for artifact in real["artifacts"]:
        assert artifact["url"].startswith(
            "https://webank-ai-1251170195.cos.ap-guangzhou.myqcloud.com/")
        assert artifact["url"].endswith("/" + artifact["name"])
        assert artifact["sha256"] is None or re.fullmatch(r"[0-9a-f]{64}", artifact["sha256"])
        assert artifact["component"] in ("python", "java", "mysql", "eggroll", "fate", "fateboard")
    assert sum(a["size"] for a in sample["artifacts"]) < 3 * MIB


def test_jdk_has_the_real_top_dir(sample_dir: Path) -> None:
    tree = members((sample_dir / "jdk-8u192-linux-x64.tar.gz").read_bytes())
    assert {name.split("/")[0] for name in tree} == {"jdk1.8.0_192"}
    assert tree["jdk1.8.0_192/bin/java"].mode == 0o755


def test_mysql_release_nests_the_server_tarball(sample_dir: Path) -> None:
    data = (sample_dir / "mysql-1.4.5-release.tar.gz").read_bytes()
    assert {"mysql/mysql-8.0.13.tar.gz", "mysql/my.cnf", "mysql/service.sh",
            "mysql/create-eggroll-meta-tables.sql"} <= set(members(data))
    server = members(read(data, "mysql/mysql-8.0.13.tar.gz"))
    for name in ("bin/mysqld", "bin/mysql", "bin/mysqld_safe"):
        assert server[f"mysql-8.0.13/{name}"].mode == 0o755
    assert server["mysql-8.0.13/share"].isdir()
    cnf = read(data, "mysql/my.cnf").decode()
    assert "datadir=/data/projects/data/fate/mysql" in cnf
    assert "socket=/data/projects/fate/common/mysql/mysql-8.0.13/run/mysql.sock" in cnf


def test_eggroll_schema_has_the_seven_tables(sample_dir: Path) -> None:
    sql = read((sample_dir / "mysql-1.4.5-release.tar.gz").read_bytes(),
               "mysql/create-eggroll-meta-tables.sql").decode()
    tables = re.findall(r"CREATE TABLE IF NOT EXISTS `(\w+)`", sql)
    assert sorted(tables) == sorted(["store_locator", "store_option", "store_partition",
                                     "server_node", "session_main", "session_option",
                                     "session_processor"])
    node = sql.split("`server_node` (")[1].split(") DEFAULT CHARACTER SET")[0]
    for column in ("server_node_id", "name", "server_cluster_id", "host", "port", "node_type",
                   "status", "last_heartbeat_at", "created_at", "updated_at"):
        assert f"`{column}`" in node


def _fate_install(sample_dir: Path) -> dict[str, bytes]:
    data = (sample_dir / "FATE_install_1.4.5-release.tar.gz").read_bytes()
    top = "FATE_install_1.4.5-release"
    assert set(members(data)) == {top, f"{top}/python.tar.gz", f"{top}/eggroll.tar.gz",
                                  f"{top}/fateboard.tar.gz"}
    return {n: read(data, f"{top}/{n}.tar.gz") for n in ("python", "eggroll", "fateboard")}


def test_eggroll_tree(sample_dir: Path) -> None:
    eggroll = _fate_install(sample_dir)["eggroll"]
    tree = members(eggroll)
    for name in ("bin/eggroll.sh", "conf/eggroll.properties", "conf/route_table.json",
                 "python/eggroll/__init__.py", "deploy/create-eggroll-meta-tables.sql",
                 "lib/eggroll-core-2.0.2.jar", "lib/eggroll-roll-site-2.0.2.jar",
                 "lib/eggroll-cluster-manager-2.0.2.jar", "lib/eggroll-node-manager-2.0.2.jar"):
        assert f"eggroll/{name}" in tree, name
    with zipfile.ZipFile(io.BytesIO(read(eggroll, "eggroll/lib/eggroll-core-2.0.2.jar"))) as jar:
        assert "com/webank/eggroll/core/Bootstrap.class" in jar.namelist()
    props = read(eggroll, "eggroll/conf/eggroll.properties").decode()
    keys = {line.split("=")[0] for line in props.splitlines() if "=" in line
            and not line.startswith("#")}
    # the keys the 1.4.5 installer sets (reference/fate-1.4-deploy.md §2.2) exist in stock
    for key in ("eggroll.resourcemanager.clustermanager.jdbc.driver.class.name",
                "eggroll.resourcemanager.clustermanager.jdbc.url",
                "eggroll.resourcemanager.clustermanager.jdbc.username",
                "eggroll.resourcemanager.clustermanager.jdbc.password",
                "eggroll.data.dir", "eggroll.logs.dir",
                "eggroll.resourcemanager.clustermanager.host",
                "eggroll.resourcemanager.clustermanager.port",
                "eggroll.resourcemanager.nodemanager.port", "eggroll.resourcemanager.process.tag",
                "eggroll.bootstrap.root.script",
                "eggroll.resourcemanager.bootstrap.egg_pair.venv",
                "eggroll.resourcemanager.bootstrap.egg_pair.pythonpath",
                "eggroll.resourcemanager.bootstrap.roll_pair_master.javahome",
                "eggroll.rollsite.coordinator", "eggroll.rollsite.host", "eggroll.rollsite.port",
                "eggroll.rollsite.party.id", "eggroll.rollsite.route.table.path",
                "eggroll.session.processors.per.node"):
        assert key in keys, key
    route = json.loads(read(eggroll, "eggroll/conf/route_table.json"))
    assert route["permission"] == {"default_allow": True}
    assert set(route["route_table"]["default"]) == {"default"}


def test_fate_python_tree(sample_dir: Path) -> None:
    python = _fate_install(sample_dir)["python"]
    tree = members(python)
    for name in ("arch/conf/base_conf.yaml", "arch/conf/server_conf.json",
                 "fate_flow/fate_flow_server.py", "fate_flow/fate_flow_client.py",
                 "federatedml/__init__.py", "examples/toy_example/run_toy_example.py",
                 "requirements.txt", "fate.env"):
        assert f"python/{name}" in tree, name
    base = yaml.safe_load(read(python, "python/arch/conf/base_conf.yaml"))
    assert set(base) >= {"work_mode", "use_registry", "fate_flow", "database", "zookeeper",
                         "model_store_address"}
    assert set(base["database"]) == {"name", "user", "passwd", "host", "port",
                                     "max_connections", "stale_timeout"}
    servers = json.loads(read(python, "python/arch/conf/server_conf.json"))["servers"]
    assert set(servers["fateflow"]) == {"host", "grpc.port", "http.port"}
    assert set(servers["proxy"]) == {"host", "port"}


def test_fateboard_tree(sample_dir: Path) -> None:
    board = _fate_install(sample_dir)["fateboard"]
    tree = members(board)
    assert tree["fateboard/fateboard.jar"].issym()
    assert tree["fateboard/fateboard.jar"].linkname == "fateboard-1.4.2.jar"
    assert "fateboard/ssh/ssh.properties" in tree
    jar = zipfile.ZipFile(io.BytesIO(read(board, "fateboard/fateboard-1.4.2.jar")))
    assert "Main-Class: org.springframework.boot.loader.JarLauncher" in \
        jar.read("META-INF/MANIFEST.MF").decode()
    props = read(board, "fateboard/conf/application.properties").decode()
    for key in ("server.port", "fateflow.url", "spring.datasource.driver-Class-Name",
                "fateboard.datasource.jdbc-url", "fateboard.datasource.username",
                "fateboard.datasource.password"):
        assert re.search(rf"^{re.escape(key)}=", props, re.M), key


def test_python_env_holds_installer_and_wheels(sample_dir: Path) -> None:
    data = (sample_dir / "python-env-1.4.5-release.tar.gz").read_bytes()
    tree = members(data)
    installer = "python-env/Miniconda3-4.5.4-Linux-x86_64.sh"
    assert tree[installer].mode == 0o755
    assert read(data, installer).startswith(b"#!/bin/sh")
    assert "python-env/virtualenv-20.0.18-py2.py3-none-any.whl" in tree
    bundle = members(read(data, "python-env/pip-packages-fate-1.4.5.tar.gz"))
    wheels = [n for n in bundle if n.endswith(".whl")]
    assert "pip-packages-fate-1.4.5/requirements.txt" in bundle and len(wheels) == 2


def test_extra_bytes_adds_mixed_filler(tmp_path: Path) -> None:
    plain = sum(p.stat().st_size for p in generate(tmp_path / "plain"))
    paths = generate(tmp_path / "big", extra_bytes=2 * MIB)
    data = (tmp_path / "big" / "jdk-8u192-linux-x64.tar.gz").read_bytes()
    fillers = [n for n in members(data) if "sample-filler" in n or "libsamplefiller" in n]
    assert fillers
    total_files = 0
    for path in paths:
        blob = path.read_bytes()
        for name in members(blob):
            total_files += "filler" in name
        for inner in [n for n in members(blob) if n.endswith(".tar.gz")]:
            total_files += sum("filler" in n for n in members(read(blob, inner)))
    assert 25 <= total_files <= 35  # ~15 files per MiB
    grown = sum(p.stat().st_size for p in paths) - plain
    assert 0.5 * MIB < grown < 2.2 * MIB  # text and ELF-like parts compress, random does not


def test_cli_writes_and_lists(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "packager.sample", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert len(run.stdout.splitlines()) == 4
    bad = subprocess.run([sys.executable, "-m", "packager.sample", str(tmp_path / "x"),
                          "--extra-bytes", "lots"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not a size" in bad.stderr
    assert not (tmp_path / "x").exists()
    (tmp_path / "plain-file").write_text("x")
    taken = subprocess.run([sys.executable, "-m", "packager.sample", str(tmp_path / "plain-file")],
                           capture_output=True, text=True, timeout=60)
    assert taken.returncode == 2 and "exists and is not a directory" in taken.stderr
    assert (tmp_path / "plain-file").read_text() == "x"


def test_negative_extra_bytes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, extra_bytes=-1)

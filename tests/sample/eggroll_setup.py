"""Per-test eggroll homes configured the way fate-configure will configure them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .helpers import set_properties

CM = "com.webank.eggroll.core.resourcemanager.ClusterManagerBootstrap"
NM = "com.webank.eggroll.core.resourcemanager.NodeManagerBootstrap"


def make_home(fate_home: Path, where: Path) -> Path:
    """A private EGGROLL_HOME: own conf/ and logs/, the unpacked lib/, bin/, python/."""
    home = where / "eggroll"
    home.mkdir(parents=True)
    shutil.copytree(fate_home / "eggroll" / "conf", home / "conf")
    for shared in ("lib", "bin", "python"):
        (home / shared).symlink_to(fate_home / "eggroll" / shared)
    return home


def configure(home: Path, *, db_port: int, password: str, cm_port: int, nm_port: int,
              rs_port: int, party: str, flow_port: int | None = None,
              default_hop: int | None = None, dbname: str = "eggroll_meta") -> Path:
    conf = home / "conf" / "eggroll.properties"
    set_properties(conf, {
        "eggroll.resourcemanager.clustermanager.jdbc.driver.class.name": "com.mysql.cj.jdbc.Driver",
        "eggroll.resourcemanager.clustermanager.jdbc.url":
            f"jdbc:mysql://127.0.0.1:{db_port}/{dbname}?useSSL=false&serverTimezone=UTC"
            "&characterEncoding=utf8&allowPublicKeyRetrieval=true",
        "eggroll.resourcemanager.clustermanager.jdbc.username": "fate",
        "eggroll.resourcemanager.clustermanager.jdbc.password": password,
        "eggroll.resourcemanager.clustermanager.host": "127.0.0.1",
        "eggroll.resourcemanager.clustermanager.port": str(cm_port),
        "eggroll.resourcemanager.nodemanager.port": str(nm_port),
        "eggroll.resourcemanager.process.tag": f"fate-{party}",
        "eggroll.rollsite.host": "127.0.0.1",
        "eggroll.rollsite.port": str(rs_port),
        "eggroll.rollsite.party.id": party,
    })
    table = {
        "route_table": {
            party: {"default": [{"ip": "127.0.0.1", "port": rs_port}],
                    "fateflow": [{"ip": "127.0.0.1", "port": flow_port or 9360}]},
            "default": {"default": [{"ip": "127.0.0.1", "port": default_hop or rs_port}]},
        },
        "permission": {"default_allow": True},
    }
    (home / "conf" / "route_table.json").write_text(json.dumps(table, indent=2))
    return conf


def java(fate_home: Path) -> str:
    return str(fate_home / "common" / "jdk" / "jdk-8u192" / "bin" / "java")


def env(fate_home: Path, home: Path, **extra: str) -> dict:
    jdk = fate_home / "common" / "jdk" / "jdk-8u192"
    values = dict(os.environ, EGGROLL_HOME=str(home), JAVA_HOME=str(jdk),
                  PATH=f"{jdk}/bin:{os.environ['PATH']}", FATE_SAMPLE_PEER_TIMEOUT="15",
                  FATE_SAMPLE_HEARTBEAT_INTERVAL="0.5")
    values.update(extra)
    return values


def bootstrap_cmd(fate_home: Path, home: Path, cls: str, port: int, tag: str = "fate-test") -> list:
    """eggroll 2.0.2's command line for clustermanager / nodemanager (reference §3)."""
    return [java(fate_home), f"-Dlog4j.configurationFile={home}/conf/log4j2.properties",
            "-cp", f"{home}/lib/*:", "com.webank.eggroll.core.Bootstrap", "--bootstraps", cls,
            "-c", f"{home}/conf/eggroll.properties", "-p", str(port), "-s", tag]


def rollsite_cmd(fate_home: Path, home: Path) -> list:
    return [java(fate_home), f"-Dlog4j.configurationFile={home}/conf/log4j2.properties",
            "-cp", f"{home}/lib/*:{home}/conf/", "com.webank.eggroll.rollsite.Proxy",
            "-c", f"{home}/conf/eggroll.properties"]


def register(db, fate_home: Path, cm_port: int, nm_ports: list,
             dbname: str = "eggroll_meta") -> None:
    rows = [f"('127.0.0.1', {cm_port}, 'CLUSTER_MANAGER', 'HEALTHY')"]
    rows += [f"('127.0.0.1', {p}, 'NODE_MANAGER', 'HEALTHY')" for p in nm_ports]
    db.sql(fate_home, "INSERT INTO server_node (host, port, node_type, status) VALUES "
           + ", ".join(rows) + ";", dbname)


def create_meta_db(db, fate_home: Path, sql_file: Path, dbname: str) -> None:
    """Load create-eggroll-meta-tables.sql into database ``dbname`` (the eggroll.dbname var)."""
    db.sql(fate_home, sql_file.read_text().replace("`eggroll_meta`", f"`{dbname}`"))

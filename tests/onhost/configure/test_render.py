"""Rendered files per host role, compared with reference/fate-1.4-deploy.md §2.

Expected values are written here from the reference (the 1.4.5 step-by-step doc's
files), not copied from fate-configure's output: a changed template must fail here.
"""

import configparser
import json
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from packager.onhost.configure.loader import load_text
from packager.onhost.configure.model import Party
from packager.onhost.configure.pipeline import load_party
from packager.onhost.configure.plan import make_plan
from packager.onhost.configure.schema import validate_schema
from tests.support.configure import DATA, UNITS

SECRETS = {"mysql_fate": "Sample-Fate-Pw-1", "mysql_root": "Sample-Root-Pw-1"}
PARTY = DATA / "guest-3hosts.yaml"
VENV = "/data/projects/fate/common/python/venv"
JDK = "/data/projects/fate/common/jdk/jdk-8u192"
PYPATH = "/data/projects/fate/python:/data/projects/fate/eggroll/python"
MYSQL = "/data/projects/fate/common/mysql/mysql-8.0.13"

EGGROLL_PROPERTIES = {
    "eggroll.resourcemanager.clustermanager.jdbc.driver.class.name": "com.mysql.cj.jdbc.Driver",
    "eggroll.resourcemanager.clustermanager.jdbc.url":
        "jdbc:mysql://10.0.1.3:3306/eggroll_meta?useSSL=false&serverTimezone=UTC"
        "&characterEncoding=utf8&allowPublicKeyRetrieval=true",
    "eggroll.resourcemanager.clustermanager.jdbc.username": "fate",
    "eggroll.resourcemanager.clustermanager.jdbc.password": "Sample-Fate-Pw-1",
    "eggroll.data.dir": "data/",
    "eggroll.logs.dir": "logs/",
    "eggroll.resourcemanager.clustermanager.host": "10.0.1.2",
    "eggroll.resourcemanager.clustermanager.port": "4670",
    "eggroll.resourcemanager.nodemanager.port": "4671",
    "eggroll.resourcemanager.process.tag": "fate-guest",
    "eggroll.bootstrap.root.script": "bin/eggroll_boot.sh",
    "eggroll.resourcemanager.bootstrap.egg_pair.exepath": "bin/roll_pair/egg_pair_bootstrap.sh",
    "eggroll.resourcemanager.bootstrap.egg_pair.venv": VENV,
    "eggroll.resourcemanager.bootstrap.egg_pair.pythonpath": PYPATH,
    "eggroll.resourcemanager.bootstrap.egg_pair.filepath": "python/eggroll/roll_pair/egg_pair.py",
    "eggroll.resourcemanager.bootstrap.roll_pair_master.exepath":
        "bin/roll_pair/roll_pair_master_bootstrap.sh",
    "eggroll.resourcemanager.bootstrap.roll_pair_master.javahome": JDK,
    "eggroll.resourcemanager.bootstrap.roll_pair_master.classpath": "conf/:lib/*",
    "eggroll.resourcemanager.bootstrap.roll_pair_master.mainclass":
        "com.webank.eggroll.rollpair.RollPairMasterBootstrap",
    "eggroll.resourcemanager.bootstrap.roll_pair_master.jvm.options": "",
    "eggroll.rollsite.coordinator": "webank",
    "eggroll.rollsite.host": "10.0.1.1",
    "eggroll.rollsite.port": "9370",
    "eggroll.rollsite.party.id": "9999",
    "eggroll.rollsite.route.table.path": "conf/route_table.json",
    "eggroll.session.processors.per.node": "6",
    "eggroll.session.start.timeout.ms": "180000",
    "eggroll.rollsite.adapter.sendbuf.size": "1048576",
    "eggroll.rollpair.transferpair.sendbuf.size": "4150000",
}

ROUTE_TABLE = {
    "route_table": {
        "9999": {"default": [{"ip": "10.0.1.1", "port": 9370}],
                 "fateflow": [{"ip": "10.0.1.2", "port": 9360}]},
        "default": {"default": [{"ip": "10.0.2.1", "port": 9370}]},
    },
    "permission": {"default_allow": True},
}

FATEBOARD = {
    "server.port": "8080",
    "fateflow.url": "http://10.0.1.2:9380",
    "spring.datasource.driver-Class-Name": "com.mysql.cj.jdbc.Driver",
    "spring.http.encoding.charset": "UTF-8",
    "spring.http.encoding.enabled": "true",
    "server.tomcat.uri-encoding": "UTF-8",
    "fateboard.datasource.jdbc-url":
        "jdbc:mysql://10.0.1.3:3306/fate_flow?characterEncoding=utf8&characterSetResults=utf8"
        "&autoReconnect=true&failOverReadOnly=false&serverTimezone=GMT%2B8",
    "fateboard.datasource.username": "fate",
    "fateboard.datasource.password": "Sample-Fate-Pw-1",
    "server.tomcat.max-threads": "1000",
    "server.tomcat.max-connections": "20000",
}

PATH_TAIL = "/usr/local/bin:/usr/bin:/bin"
ENV = {  # docs/contracts.md "Environment files", for the sample party
    ("10.0.1.2", "fate-clustermanager"): {
        "JAVA_HOME": JDK, "EGGROLL_HOME": "/data/projects/fate/eggroll",
        "PATH": f"{JDK}/bin:{PATH_TAIL}", "EGGROLL_PORT": "4670",
        "EGGROLL_PROCESS_TAG": "fate-guest", "FATE_WAIT_FOR": "mysql://10.0.1.3:3306",
        "FATE_LISTEN": "grpc://10.0.1.2:4670"},
    ("10.0.1.2", "fate-nodemanager"): {
        "JAVA_HOME": JDK, "EGGROLL_HOME": "/data/projects/fate/eggroll", "PYTHONPATH": PYPATH,
        "VIRTUAL_ENV": VENV, "PATH": f"{VENV}/bin:{JDK}/bin:{PATH_TAIL}", "EGGROLL_PORT": "4671",
        "EGGROLL_PROCESS_TAG": "fate-guest", "FATE_WAIT_FOR": "grpc://10.0.1.2:4670",
        "FATE_LISTEN": "grpc://10.0.1.2:4671"},
    ("10.0.1.2", "fate-flow"): {
        "EGGROLL_HOME": "/data/projects/fate/eggroll", "PYTHONPATH": PYPATH, "VIRTUAL_ENV": VENV,
        "PATH": f"{VENV}/bin:{JDK}/bin:{PATH_TAIL}",
        "FATE_WAIT_FOR": "mysql://10.0.1.3:3306 grpc://10.0.1.2:4670 grpc://10.0.1.2:4671 "
                         "grpc://10.0.1.3:4671 grpc://10.0.1.1:9370",
        "FATE_LISTEN": "grpc://10.0.1.2:9360 http://10.0.1.2:9380"},
    ("10.0.1.2", "fate-board"): {
        "JAVA_HOME": JDK, "EGGROLL_HOME": "/data/projects/fate/eggroll",
        "PATH": f"{JDK}/bin:{PATH_TAIL}", "FATE_WAIT_FOR": "mysql://10.0.1.3:3306 http://10.0.1.2:9380",
        "FATE_LISTEN": "http://10.0.1.2:8080"},
    ("10.0.1.3", "fate-mysql"): {
        "PATH": f"{MYSQL}/bin:{PATH_TAIL}", "FATE_LISTEN": "mysql://10.0.1.3:3306"},
    ("10.0.1.1", "fate-rollsite"): {
        "JAVA_HOME": JDK, "EGGROLL_HOME": "/data/projects/fate/eggroll",
        "PATH": f"{JDK}/bin:{PATH_TAIL}", "FATE_WAIT_FOR": "", "FATE_LISTEN": "grpc://10.0.1.1:9370",
        "FATE_ROLLSITE_XMX": "1024m"},  # no RAM known to the plan: the unit's default
}

FILES = {
    "10.0.1.1": {"/data/projects/fate/eggroll/conf/eggroll.properties",
                 "/data/projects/fate/eggroll/conf/route_table.json",
                 "/data/projects/fate/init_env.sh", "/etc/fate/env/fate-rollsite.env"},
    "10.0.1.2": {"/data/projects/fate/eggroll/conf/eggroll.properties",
                 "/data/projects/fate/python/arch/conf/base_conf.yaml",
                 "/data/projects/fate/python/arch/conf/server_conf.json",
                 "/data/projects/fate/fateboard/conf/application.properties",
                 "/data/projects/fate/init_env.sh",
                 "/etc/fate/env/fate-clustermanager.env", "/etc/fate/env/fate-nodemanager.env",
                 "/etc/fate/env/fate-flow.env", "/etc/fate/env/fate-board.env"},
    "10.0.1.3": {"/data/projects/fate/eggroll/conf/eggroll.properties",
                 "/data/projects/fate/python/arch/conf/base_conf.yaml",
                 "/data/projects/fate/python/arch/conf/server_conf.json",
                 f"{MYSQL}/conf/my.cnf", "/data/projects/fate/init_env.sh",
                 "/etc/fate/env/fate-mysql.env", "/etc/fate/env/fate-nodemanager.env"},
}
ALWAYS = {"/etc/fate/secrets.yaml", "/etc/fate/party.yaml", "/etc/fate/host"}


def properties(text: str) -> dict:
    """Java properties as eggroll/Spring read them (comments and eggroll's [eggroll] skipped)."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or line.strip() == "[eggroll]":
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {line!r}"
        assert key not in out, f"duplicate key {key}"
        out[key] = value
    return out


def env_file(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if value.startswith('"'):
            value = value[1:-1]
        out[key] = value
    return out


def plan_for(host: str, path: Path = PARTY, secrets: dict = SECRETS):
    doc, party = load_party(str(path))
    return make_plan(party, host, dict(secrets), path.read_text(), UNITS)


def files_of(plan) -> dict:
    return {f.path: f for f in plan.files}


@pytest.mark.parametrize("host", sorted(FILES))
def test_each_host_gets_exactly_its_files(host):
    assert set(files_of(plan_for(host))) == FILES[host] | ALWAYS


def test_eggroll_properties_match_reference_and_are_identical_on_all_hosts():
    contents = {host: files_of(plan_for(host))[
        "/data/projects/fate/eggroll/conf/eggroll.properties"] for host in FILES}
    for spec in contents.values():
        assert properties(spec.content) == EGGROLL_PROPERTIES
        assert spec.content.splitlines()[2] == "[eggroll]"  # eggroll's python client needs it
        assert (spec.mode, spec.owner, spec.group) == (0o600, "app", "apps")
    assert len({spec.content for spec in contents.values()}) == 1


def test_route_table_is_json_with_own_and_default_routes():
    spec = files_of(plan_for("10.0.1.1"))["/data/projects/fate/eggroll/conf/route_table.json"]
    assert json.loads(spec.content) == ROUTE_TABLE


def test_fate_flow_base_conf_and_server_conf():
    got = files_of(plan_for("10.0.1.2"))
    base = yaml.safe_load(got["/data/projects/fate/python/arch/conf/base_conf.yaml"].content)
    assert base["work_mode"] == 1 and base["use_registry"] is False
    assert base["fate_flow"] == {"host": "0.0.0.0", "http_port": 9380, "grpc_port": 9360}
    assert base["database"] == {"name": "fate_flow", "user": "fate", "passwd": "Sample-Fate-Pw-1",
                                "host": "10.0.1.3", "port": 3306, "max_connections": 100,
                                "stale_timeout": 30}
    assert base["zookeeper"]["hosts"] == [] and base["zookeeper"]["use_acl"] is False
    assert base["model_store_address"]["storage"] == "mysql"
    assert base["model_store_address"]["host"] == "10.0.1.3"
    servers = json.loads(got["/data/projects/fate/python/arch/conf/server_conf.json"].content)
    servers = servers["servers"]
    assert servers["fateflow"] == {"host": "10.0.1.2", "grpc.port": 9360, "http.port": 9380}
    assert servers["fateboard"] == {"host": "10.0.1.2", "port": 8080}
    assert servers["proxy"] == {"host": "10.0.1.1", "port": 9370}  # this party's rollsite
    assert servers["servings"] == ["127.0.0.1:8000"]


def test_fateboard_application_properties():
    spec = files_of(plan_for("10.0.1.2"))[
        "/data/projects/fate/fateboard/conf/application.properties"]
    assert properties(spec.content) == FATEBOARD
    assert spec.mode == 0o600


def test_my_cnf_sections_and_values():
    spec = files_of(plan_for("10.0.1.3"))[f"{MYSQL}/conf/my.cnf"]
    cnf = configparser.ConfigParser(interpolation=None)
    cnf.read_string(spec.content)
    mysqld = cnf["mysqld"]
    assert mysqld["port"] == "3306"
    assert mysqld["basedir"] == MYSQL
    assert mysqld["datadir"] == "/data/projects/data/fate/mysql"
    assert mysqld["socket"] == f"{MYSQL}/run/mysql.sock"
    assert mysqld["max_connections"] == "10000"
    assert mysqld["character-set-server"] == "utf8"
    assert mysqld["default-storage-engine"] == "INNODB"
    assert mysqld["loose-default_authentication_plugin"] == "mysql_native_password"
    assert "ONLY_FULL_GROUP_BY" not in mysqld["sql_mode"]
    assert cnf["client"]["socket"] == cnf["mysql"]["socket"] == mysqld["socket"]
    assert cnf["mysqld_safe"]["log-error"] == "/data/logs/fate/mysql/mysqld.log"
    assert cnf["mysqld_safe"]["pid-file"] == f"{MYSQL}/run/mysqld.pid"


def test_init_env_sh_is_bash_and_sets_the_five_variables():
    spec = files_of(plan_for("10.0.1.2"))["/data/projects/fate/init_env.sh"]
    lines = [line for line in spec.content.splitlines() if line and not line.startswith("#")]
    assert lines == [
        f"export PYTHONPATH={PYPATH}",
        "export EGGROLL_HOME=/data/projects/fate/eggroll/",
        f"venv={VENV}",
        f"export JAVA_HOME={JDK}",
        "export PATH=$PATH:$JAVA_HOME/bin",
        "source ${venv}/bin/activate",
    ]
    check = subprocess.run(["bash", "-n"], input=spec.content, universal_newlines=True)
    assert check.returncode == 0


@pytest.mark.parametrize("host,unit", sorted(ENV))
def test_env_files_follow_the_contract(host, unit):
    spec = files_of(plan_for(host))[f"/etc/fate/env/{unit}.env"]
    assert env_file(spec.content) == ENV[(host, unit)]
    assert (spec.mode, spec.owner) == (0o644, "root")


def test_env_file_parses_with_the_units_reader():
    """systemd's EnvironmentFile= syntax: quoted values with spaces come back whole."""
    spec = files_of(plan_for("10.0.1.2"))["/etc/fate/env/fate-flow.env"]
    assert 'FATE_LISTEN="grpc://10.0.1.2:9360 http://10.0.1.2:9380"' in spec.content.splitlines()


def test_units_enabled_for_roles_and_others_disabled():
    plan = plan_for("10.0.1.3")
    assert plan.enable == ("fate-mysql", "fate-nodemanager")
    assert set(plan.disable) == {"fate-rollsite", "fate-clustermanager", "fate-flow", "fate-board"}


def test_mysql_plan_grants_every_connecting_host_and_registers_nodes():
    db = plan_for("10.0.1.3").db
    assert set(db.client_ips) == {"10.0.1.2", "10.0.1.3"}
    assert set(db.databases) == {"eggroll_meta", "fate_flow"}
    assert set(db.server_nodes) == {("10.0.1.2", 4670, "CLUSTER_MANAGER"),
                                    ("10.0.1.2", 4671, "NODE_MANAGER"),
                                    ("10.0.1.3", 4671, "NODE_MANAGER")}
    assert plan_for("10.0.1.2").db is None


def test_secrets_files_are_private():
    got = files_of(plan_for("10.0.1.2"))
    for path in ("/etc/fate/secrets.yaml", "/etc/fate/party.yaml",
                 "/data/projects/fate/python/arch/conf/base_conf.yaml"):
        assert got[path].mode == 0o600, path


def _party(text: str) -> Party:
    doc = load_text(text, "t.yaml")
    data, errors = validate_schema(doc)
    assert errors == []
    return Party(data)


def test_tls_keys_in_eggroll_properties_when_secure():
    party = _party(PARTY.read_text().replace(
        "    port: 9370\n", "    port: 9370\n    server_secure: true\n    client_secure: true\n", 1)
        .replace("port: 9370, is_secure: false", "port: 9371, is_secure: true"))
    plan = make_plan(party, "10.0.1.1", dict(SECRETS), "", UNITS)
    props = properties(files_of(plan)["/data/projects/fate/eggroll/conf/eggroll.properties"]
                       .content)
    keys = "/data/projects/data/fate/keys"
    assert props["eggroll.rollsite.secure.port"] == "9371"
    assert props["eggroll.core.security.ca.crt.path"] == f"{keys}/guest-ca.pem"
    assert props["eggroll.core.security.server.crt.path"] == f"{keys}/guest-server.pem"
    assert props["eggroll.core.security.server.key.path"] == f"{keys}/guest-server.key"
    assert props["eggroll.core.security.client.ca.crt.path"] == f"{keys}/host-client-ca.pem"
    assert props["eggroll.core.security.client.crt.path"] == f"{keys}/host-client.pem"
    assert props["eggroll.core.security.client.key.path"] == f"{keys}/host-client.key"
    route = json.loads(files_of(plan)["/data/projects/fate/eggroll/conf/route_table.json"].content)
    assert route["route_table"]["default"]["default"] == [
        {"ip": "10.0.2.1", "port": 9371, "is_secure": True}]
    env = env_file(files_of(plan)["/etc/fate/env/fate-rollsite.env"].content)
    assert env["FATE_LISTEN"] == "grpc://10.0.1.1:9370 grpc-tls://10.0.1.1:9371"


EXCHANGE = """\
exchange:
  rollsite:
    ips: [10.0.9.1]
  partys:
    - id: 9999
      rules: [{name: default, ip: 10.0.1.1, port: 9370}]
    - id: 10000
      rules: [{name: default, ip: 10.0.2.1, port: 9370}]
"""


def test_exchange_site_renders_rollsite_only():
    plan = make_plan(_party(EXCHANGE), "10.0.9.1", {}, EXCHANGE, UNITS)
    got = files_of(plan)
    assert set(got) == {"/data/projects/fate/eggroll/conf/eggroll.properties",
                        "/data/projects/fate/eggroll/conf/route_table.json",
                        "/etc/fate/env/fate-rollsite.env", "/etc/fate/party.yaml",
                        "/etc/fate/host"}
    props = properties(got["/data/projects/fate/eggroll/conf/eggroll.properties"].content)
    assert props == {
        "eggroll.data.dir": "data/", "eggroll.logs.dir": "logs/",
        "eggroll.rollsite.coordinator": "webank", "eggroll.rollsite.host": "10.0.9.1",
        "eggroll.rollsite.port": "9370", "eggroll.rollsite.party.id": "exchange",
        "eggroll.rollsite.route.table.path": "conf/route_table.json",
        "eggroll.rollsite.adapter.sendbuf.size": "1048576"}
    assert json.loads(got["/data/projects/fate/eggroll/conf/route_table.json"].content) == {
        "route_table": {"9999": {"default": [{"ip": "10.0.1.1", "port": 9370}]},
                        "10000": {"default": [{"ip": "10.0.2.1", "port": 9370}]}},
        "permission": {"default_allow": True}}
    assert plan.db is None and plan.enable == ("fate-rollsite",)


def test_rules_are_derived_when_omitted():
    text = re.sub(r"    rules:\n(      - .*\n)+", "", PARTY.read_text())
    assert "rules:\n      - {name: default, ip: 10.0.1.1" not in text
    plan = make_plan(_party(text), "10.0.1.1", dict(SECRETS), text, UNITS)
    route = json.loads(files_of(plan)["/data/projects/fate/eggroll/conf/route_table.json"].content)
    assert route == ROUTE_TABLE


def _egg(text: str, cpus: int) -> str:
    path = Path(tempfile.mkdtemp()) / "p.yaml"
    path.write_text(text)
    _, party = load_party(str(path))
    plan = make_plan(party, "10.0.1.2", dict(SECRETS), text, UNITS, cpus=cpus)
    return properties(files_of(plan)["/data/projects/fate/eggroll/conf/eggroll.properties"]
                      .content)["eggroll.session.processors.per.node"]


@pytest.mark.parametrize("eggroll,cpus,expect", [
    ("    egg: 6\n", 16, "6"),                                     # set: used as given
    ("    dbname: eggroll_meta\n", 16, "12"),                       # 16 x 0.8 / 1
    ("    concurrent_jobs: 2\n", 16, "6"),                          # 16 x 0.8 / 2 = 6.4
    ("    cores_per_node: 40\n    concurrent_jobs: 4\n", 2, "8"),  # the nodemanagers' cores
    ("    concurrent_jobs: 8\n", 2, "1"),                           # never 0
])
def test_processors_per_node_from_the_seed_formula(eggroll, cpus, expect):
    text = PARTY.read_text().replace("    egg: 6\n", eggroll)
    assert _egg(text, cpus) == expect


@pytest.mark.parametrize("max_memory,mem_kib,expect", [
    (None, 16 * 1024 * 1024, "4096m"),   # a quarter of 16 GiB
    ("12G", 16 * 1024 * 1024, "12G"),
])
def test_rollsite_heap_reaches_the_unit_env(max_memory, mem_kib, expect):
    text = PARTY.read_text()
    if max_memory:
        text = text.replace("    port: 9370\n",
                            f"    port: 9370\n    max_memory: {max_memory}\n", 1)
    path = Path(tempfile.mkdtemp()) / "p.yaml"
    path.write_text(text)
    _, party = load_party(str(path))
    plan = make_plan(party, "10.0.1.1", dict(SECRETS), text, UNITS, mem_kib=mem_kib)
    env = env_file(files_of(plan)["/etc/fate/env/fate-rollsite.env"].content)
    assert env["FATE_ROLLSITE_XMX"] == expect


def test_a_properties_value_is_written_as_java_reads_it_back():
    """Expected texts written by hand from the .properties grammar (java.util.Properties):
    outside printable ASCII, UTF-16 \\uXXXX units; a backslash and control characters
    escaped; a leading blank kept by a backslash."""
    from packager.onhost.configure.render import prop
    assert prop("Sample-Pw=1:#!") == "Sample-Pw=1:#!"
    assert prop("p\u00e4ss\u5bc6\u7801") == "p\\u00e4ss\\u5bc6\\u7801"
    assert prop("\U0001f600") == "\\ud83d\\ude00"
    assert prop("a\\b\tc\nd") == "a\\\\b\\tc\\nd"
    assert prop(" lead") == "\\ lead"


JAVA_READER = """
import java.io.*; import java.util.*;
public class Read { public static void main(String[] a) throws Exception {
  Properties p = new Properties();
  try (InputStream in = new FileInputStream(a[0])) { p.load(in); }
  String v = p.getProperty("pw"); StringBuilder out = new StringBuilder();
  for (int i = 0; i < v.length(); i++) out.append(String.format("%04x ", (int) v.charAt(i)));
  System.out.println(out.toString().trim()); } }
"""


@pytest.mark.skipif(not __import__("shutil").which("java"),
                    reason="needs a JDK (java) to read the file as eggroll and fateboard do")
def test_java_reads_back_every_password_the_schema_allows(tmp_path):
    from packager.onhost.configure.render import prop
    value = " p\u00e4ss\\\u5bc6\u7801\U0001f600=:#"
    (tmp_path / "Read.java").write_text(JAVA_READER)
    (tmp_path / "x.properties").write_bytes(("pw=" + prop(value) + "\n").encode("utf-8"))
    r = subprocess.run(["java", str(tmp_path / "Read.java"), str(tmp_path / "x.properties")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    units = value.encode("utf-16-be", "surrogatepass")
    expected = " ".join(units[i:i + 2].hex() for i in range(0, len(units), 2))
    assert r.stdout.strip() == expected

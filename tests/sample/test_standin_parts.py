"""Pieces of the stand-ins that need no server: config readers, installer, java, eggroll.sh."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time

import pytest

from packager.sample import payload

from . import eggroll_setup as eg
from .helpers import answers, free_port


@pytest.fixture(scope="module")
def kit():
    sys.path.insert(0, str(payload.PAYLOAD / "kit"))
    try:
        yield (importlib.import_module("fate_sample_kit.yamlish"),
               importlib.import_module("fate_sample_kit.service"))
    finally:
        sys.path.remove(str(payload.PAYLOAD / "kit"))


def test_yaml_subset_reads_the_stock_base_conf(kit):
    yamlish, _ = kit
    import yaml

    text = payload.text("fate/python/arch/conf/base_conf.yaml").decode()
    assert yamlish.loads(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", [
    "a: 1\nb: 'x'\nc: [1, 2]\nd:\n  - e: 1\n    f: two\n  - g: null\ne: true  # note\n",
    "work_mode: 1\nzookeeper:\n  hosts:\n    - 10.0.0.1:2181\n    - 10.0.0.2:2181\n"
    "  use_acl: false\n",
    "db:\n  passwd: 'p#ss: word'\n  port: 3306\n",
])
def test_yaml_subset_agrees_with_pyyaml(kit, text):
    yamlish, _ = kit
    import yaml

    assert yamlish.loads(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", ["a: 1\n  b: 2\n", "a: {b: 1}\n", "a:1\n", "\ta: 1\n"])
def test_yaml_subset_refuses_what_it_cannot_read(kit, text):
    yamlish, _ = kit
    with pytest.raises(ValueError):
        yamlish.loads(text)


def test_properties_reader_skips_section_header(kit, tmp_path):
    _, service = kit
    conf = tmp_path / "eggroll.properties"
    conf.write_text("[eggroll]\n# db\na.b=jdbc:mysql://h:1/x?u=1&p=2\nempty=\n c = d \n")
    props = service.read_properties(str(conf))
    assert props == {"a.b": "jdbc:mysql://h:1/x?u=1&p=2", "empty": "", "c": "d"}
    with pytest.raises(service.Fatal, match="missing key empty in"):
        service.require(props, "empty", str(conf))
    assert service.parse_jdbc_url(props["a.b"], "f") == ("h", 1, "x")
    with pytest.raises(service.Fatal, match="unsupported JDBC URL"):
        service.parse_jdbc_url("jdbc:h2:./data", "f")


def test_miniconda_installer_usage(fate_home, tmp_path, scratch):
    installer = scratch / "install" / "python-env" / "Miniconda3-4.5.4-Linux-x86_64.sh"
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    run = subprocess.run(["sh", str(installer), "-b", "-p", str(used)], capture_output=True,
                         text=True, timeout=30)
    assert run.returncode == 1 and f"File or directory already exists: '{used}'" in run.stderr
    run = subprocess.run(["sh", str(installer), "-p", str(tmp_path / "new")],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "batch mode only" in run.stderr
    assert not (tmp_path / "new").exists()


def test_miniconda_gives_python3_and_pip(venv, fate_home):
    prefix = fate_home / "common" / "miniconda3"
    for name in ("python3", "python3.6", "pip"):
        assert (prefix / "bin" / name).exists(), name
    assert (prefix / "LICENSE.txt").exists()  # the appended payload was unpacked
    run = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import fate_sample_kit.service, fate_sample_mysql"],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr


def test_java_version_and_usage(fate_home):
    java = eg.java(fate_home)
    run = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0 and 'java version "1.8.0_192"' in run.stderr
    run = subprocess.run([java], capture_output=True, text=True, timeout=30)
    assert run.returncode == 1 and "Usage: java" in run.stderr


def test_eggroll_sh_starts_and_stops_rollsite(fate_home, tmp_path):
    home = eg.make_home(fate_home, tmp_path)
    port = free_port()
    eg.configure(home, db_port=1, password="x", cm_port=free_port(), nm_port=free_port(),
                 rs_port=port, party="9999")
    env = eg.env(fate_home, home)
    script = str(home / "bin" / "eggroll.sh")
    try:
        run = subprocess.run(["bash", script, "rollsite", "start"], env=env, capture_output=True,
                             text=True, timeout=30)
        assert run.returncode == 0 and "rollsite started" in run.stdout
        deadline = time.time() + 15
        while not answers(port):
            err = home / "logs" / "eggroll" / "bootstrap.rollsite.err"
            assert time.time() < deadline, err.read_text()
            time.sleep(0.1)
        status = subprocess.run(["bash", script, "rollsite", "status"], env=env,
                                capture_output=True, text=True, timeout=30)
        assert status.returncode == 0 and "rollsite running" in status.stdout
    finally:
        subprocess.run(["bash", script, "rollsite", "stop"], env=env, capture_output=True,
                       timeout=30)
    deadline = time.time() + 10
    while answers(port):
        assert time.time() < deadline, "rollsite still answers after stop"
        time.sleep(0.1)
    status = subprocess.run(["bash", script, "rollsite", "status"], env=env, capture_output=True,
                            text=True, timeout=30)
    assert status.returncode == 1 and "rollsite not running" in status.stdout
    assert (home / "logs" / "eggroll" / "bootstrap.rollsite.out").exists()


@pytest.mark.parametrize("h2", [True, False])
def test_grpc_ports_of_the_stand_ins_answer_the_http2_preface(kit, h2):
    """Where the real service speaks gRPC (eggroll, rollsite, fate_flow 9360) the stand-in
    answers a client's HTTP/2 preface with a SETTINGS frame; its JSON routes stay HTTP/1."""
    import logging

    from packager.onhost import probe

    _, service = kit
    port = free_port()
    server = service.serve("127.0.0.1", port, {}, logging.getLogger("t"), "t", h2=h2)
    try:
        grpc = probe.probe(probe.Endpoint("127.0.0.1", port, "grpc"))
        assert grpc == (probe.ANSWERING if h2 else probe.NOT_ANSWERING)
        assert probe.probe(probe.Endpoint("127.0.0.1", port, "http")) == probe.ANSWERING
    finally:
        server.shutdown()
        server.server_close()

"""supervisor programs come from the same definitions as the units: same argv, same
environment; and a real supervisord runs one (wait for the dependency, limits, exec)."""

import configparser
import grp
import json
import os
import pwd
import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from packager.onhost import catalogue, services
from tests.support.units import PYTHON, REPO, read_unit, values, write_exe

ALL = ["mysql", "clustermanager", "nodemanager", "rollsite", "fate_flow", "fateboard"]
PROGRAMS = {"fate-mysql", "fate-clustermanager", "fate-nodemanager", "fate-rollsite",
            "fate-fateflow", "fate-fateboard"}

ENV_FILES = {
    "fate-clustermanager": 'EGGROLL_PORT=4670\nEGGROLL_PROCESS_TAG="fate-guest"\n'
                           "FATE_WAIT_FOR=10.0.0.5:3306\nFATE_LISTEN=10.0.0.1:4670\n",
    "fate-nodemanager": "EGGROLL_PORT=4671\nEGGROLL_PROCESS_TAG=fate-guest\n"
                        "FATE_WAIT_FOR=10.0.0.5:3306 10.0.0.1:4670\n",
    "fate-rollsite": "# rollsite\nFATE_LISTEN=10.0.0.1:9370\n",
    "fate-flow": "PYTHONPATH=/data/projects/fate/python:/data/projects/fate/eggroll/python\n"
                 "FATE_WAIT_FOR=10.0.0.5:3306 10.0.0.1:4670 10.0.0.1:9370\n",
    "fate-board": "FATE_WAIT_FOR=10.0.0.5:3306 10.0.0.1:9380\n",
    "fate-mysql": "FATE_LISTEN=10.0.0.5:3306\n",
}


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    d = tmp_path / "env"
    d.mkdir()
    for unit, text in ENV_FILES.items():
        (d / f"{unit}.env").write_text(text)
    return d


def parse_program(text: str) -> Dict[str, str]:
    cp = configparser.RawConfigParser()
    cp.read_string(text)
    (section,) = cp.sections()
    assert section.startswith("program:")
    return {k: v.replace("%%", "%") for k, v in cp.items(section)}


def parse_sv_environment(value: str) -> Dict[str, str]:
    return dict(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"', value))


def systemd_view(name: str, env_dir: Path,
                 tmp_path: Path) -> Tuple[List[str], Dict[str, str]]:
    """What systemd would run: ExecStart split, ${VAR} from Environment= then the env file."""
    out = tmp_path / "units"
    services.render_units(str(out))
    svc = catalogue.find(name, catalogue.load())
    entries = read_unit((out / services.UNIT_DIR / svc.unit_file).read_text())
    env = dict(v.split("=", 1) for v in values(entries, "Service", "Environment"))
    env.update(services.read_env_file(str(env_dir / f"{svc.unit}.env")))
    argv = [re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], a)
            for a in shlex.split(values(entries, "Service", "ExecStart")[0])]
    return argv, {k: v for k, v in env.items() if not k.startswith("FATE_")}


def test_program_files_have_the_seed_names(env_dir):
    files = services.render_supervisor(ALL, services.env_files_in(str(env_dir)))
    assert set(files) == {p + ".conf" for p in PROGRAMS}
    for name, text in files.items():
        prog = parse_program(text)
        assert prog["autorestart"] == "true" and prog["user"] == "app"
        assert prog["stdout_logfile"].startswith("/data/logs/fate/")
        assert f"[program:{name[:-5]}]" in text


@pytest.mark.parametrize("name", ALL)
def test_supervisor_and_systemd_run_the_same_command(name, env_dir, tmp_path):
    svc = catalogue.find(name, catalogue.load())
    envs = services.env_files_in(str(env_dir))
    prog = parse_program(services.render_supervisor([name], envs)[svc.program + ".conf"])
    argv = shlex.split(prog["command"])
    cut = argv.index("--")
    sd_argv, sd_env = systemd_view(name, env_dir, tmp_path)
    assert argv[cut + 1:] == sd_argv
    assert parse_sv_environment(prog.get("environment", "")) == sd_env
    wait = argv[:cut]
    assert wait[0] == "/usr/bin/fate-waitport"
    expected_wait = (services.parse_env_file(ENV_FILES[svc.unit]).get("FATE_WAIT_FOR", "")
                     .split())
    assert [a for a in wait if re.match(r"^[\d.]+:\d+$", a)] == expected_wait
    assert wait[wait.index("--nofile") + 1] == "65535"


def test_env_file_values_reach_the_command(env_dir):
    envs = services.env_files_in(str(env_dir))
    prog = parse_program(services.render_supervisor(["clustermanager"], envs)
                         ["fate-clustermanager.conf"])
    assert prog["command"].endswith(" -p 4670 -s fate-guest")
    assert prog["priority"] < parse_program(services.render_supervisor(
        ["fate-flow"], services.env_files_in(str(env_dir)))["fate-fateflow.conf"])["priority"]


def test_missing_env_file_is_one_clear_error(tmp_path):
    with pytest.raises(catalogue.ServiceDefinitionError, match="fate-rollsite.env"):
        services.render_supervisor(["rollsite"], {})


def test_malformed_env_file_names_file_and_line(env_dir):
    (env_dir / "fate-rollsite.env").write_text("FATE_LISTEN=1.2.3.4:9370\nexport X=1\n")
    with pytest.raises(catalogue.ServiceDefinitionError, match=r"fate-rollsite.env:2: "):
        services.render_supervisor(["rollsite"], services.env_files_in(str(env_dir)))


def test_unknown_service_name(env_dir):
    with pytest.raises(catalogue.ServiceDefinitionError, match="unknown service 'eggroll'"):
        services.render_supervisor(["eggroll"], services.env_files_in(str(env_dir)))


# ---------------------------------------------------------------- a real supervisord

@pytest.fixture
def supervisord(tmp_path: Path):
    procs: List[subprocess.Popen] = []
    yield procs
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_real_supervisord_waits_then_runs_the_program(tmp_path, listening, supervisord):
    """Rendered program file, with paths pointed into tmp: supervisord starts
    fate-waitport, which waits for the dependency port, raises the file limit and execs
    the service, which sees the env file's values."""
    out = tmp_path / "seen.json"
    fake_java = write_exe(tmp_path / "bin/java", f"""#!{PYTHON}
import json, os, resource, sys, time
json.dump({{"argv": sys.argv[1:], "tag": os.environ.get("EGGROLL_PROCESS_TAG"),
           "opts": os.environ.get("JVM_OPTS"),
           "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}}, open({str(out)!r}, "w"))
time.sleep(60)
""")
    waitport = write_exe(tmp_path / "bin/fate-waitport",
                         f"#!/bin/sh\ncd {REPO} && exec {PYTHON} -m packager.onhost.waitport "
                         '"$@"\n')
    svc = catalogue.find("rollsite", catalogue.load())
    svc.command[0] = str(fake_java)
    svc.waitport = str(waitport)
    svc.directory = str(tmp_path)
    svc.stdout_log = str(tmp_path / "rollsite.out")
    svc.stderr_log = str(tmp_path / "rollsite.err")
    svc.limit_nofile = 4096
    dep = listening.getsockname()[1]
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "fate-rollsite.env").write_text(
        f'FATE_WAIT_FOR=127.0.0.1:{dep}\nEGGROLL_PROCESS_TAG=fate-host\nJVM_OPTS="-Xmx50%"\n')
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    files = services.render_supervisor(["rollsite"], services.env_files_in(str(env_dir)),
                                       account=(user, group),
                                       services=[svc])
    conf_d = tmp_path / "supervisord.d"
    conf_d.mkdir()
    (conf_d / "fate-rollsite.conf").write_text(files["fate-rollsite.conf"])
    (tmp_path / "supervisord.conf").write_text(f"""[unix_http_server]
file={tmp_path}/supervisor.sock
[supervisord]
logfile={tmp_path}/supervisord.log
pidfile={tmp_path}/supervisord.pid
nodaemon=true
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{tmp_path}/supervisor.sock
[include]
files={conf_d}/*.conf
""")
    supervisord.append(subprocess.Popen(
        ["supervisord", "-c", str(tmp_path / "supervisord.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    deadline = time.monotonic() + 20
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert out.exists(), (tmp_path / "supervisord.log").read_text()
    time.sleep(0.2)
    seen = json.loads(out.read_text())
    # the heap comes from the unit's default (services.yaml environment), the env file has none
    assert seen["argv"] == [a.replace("${FATE_ROLLSITE_XMX}", "1024m") for a in svc.command[1:]]
    assert seen["argv"][0] == "-Xmx1024m"
    assert seen["tag"] == "fate-host"
    assert seen["opts"] == "-Xmx50%"
    assert seen["nofile"] >= 4096
    status = subprocess.run(["supervisorctl", "-c", str(tmp_path / "supervisord.conf"),
                             "status", "fate-rollsite"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    assert "RUNNING" in status.stdout or "STARTING" in status.stdout


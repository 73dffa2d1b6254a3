"""The single-host story and its upgrade on a real CentOS 7 (yum 3.4.3, rpm 4.11.3,
systemd 219), as pytest-docker tests against the ``centos:7`` image. They run where Docker
and that image are present (the image is not pulled: it must be there), and are skipped
otherwise with the reason printed. The nspawn tests beside this file are what CI runs.

CentOS 7 gets the stand-ins' run-time needs (python3 and a MariaDB server) from its own
repositories, which the host must reach; on an air-gapped host they come from the bundle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .party import all_in_one
from .scenario import FATE_RPMS, TOY_LINE

pytestmark = [pytest.mark.slow]

HERE = Path(__file__).parent / "centos7"


def _why_not() -> str | None:
    if not shutil.which("docker"):
        return "no docker command on this host"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode != 0:
        return "the Docker engine does not answer (docker info failed)"
    if subprocess.run(["docker", "image", "inspect", "centos:7"], capture_output=True,
                      timeout=60).returncode != 0:
        return "the centos:7 image is not present (docker pull centos:7 where allowed)"
    return None


# session scope, as pytest-docker's own fixtures that use them
@pytest.fixture(scope="session")
def docker_compose_file():
    return str(HERE / "docker-compose.yml")


@pytest.fixture(scope="session")
def docker_compose_project_name():
    return f"fatee2e{os.getpid()}"


@pytest.fixture(scope="module")
def c7(request, docker_compose_file, docker_compose_project_name):
    reason = _why_not()
    if reason:
        pytest.skip(f"CentOS 7 docker tests: {reason}")
    rpms, rpms2 = request.getfixturevalue("rpms"), request.getfixturevalue("rpms2")
    drop = rpms.parent / "c7-rpms"
    shutil.rmtree(drop, ignore_errors=True)
    # fate-deploy is the control host's (it needs EPEL's ansible): not for localinstall
    shutil.copytree(rpms, drop, ignore=shutil.ignore_patterns(".*", "el7-core-standin*",
                                                              "fate-deploy-*"))
    (drop / "update").mkdir()
    for path in rpms2.glob("fate-*.rpm"):
        if not path.name.startswith("fate-deploy-"):
            shutil.copy2(path, drop / "update")
    os.environ["FATE_E2E_RPMS"] = str(drop)
    request.getfixturevalue("docker_services")  # compose up; compose down at module end
    base = ["docker", "compose", "-f", docker_compose_file, "-p", docker_compose_project_name,
            "exec", "-T", "centos7", "bash", "-ec"]

    def run(script: str, check: bool = True, timeout: float = 600):
        proc = subprocess.run([*base, script], capture_output=True, text=True, timeout=timeout)
        if check:
            assert proc.returncode == 0, f"{script}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        return proc

    run("until systemctl is-system-running | grep -qE 'running|degraded'; do sleep 1; done",
        timeout=120)
    run("yum -y -q install python3 mariadb-server iproute procps-ng")
    return run


def test_yum_localinstall_configure_start_toy(c7):
    c7("cd /e2e/rpms && yum -y localinstall fate-*.rpm")
    c7(f"cat > /root/party.yaml <<'PARTY'\n{all_in_one(9999, '127.0.0.1')}PARTY\n"
       "fate-configure /root/party.yaml")
    c7("systemctl start fate.target")
    c7("fate-ctl status")
    assert TOY_LINE in c7("fate-ctl toy").stdout


def test_bad_party_yaml_exits_2(c7):
    bad = all_in_one(9999, "127.0.0.1").replace("port: 9370\n", "port: 99999\n", 1)
    proc = c7(f"cat > /root/bad.yaml <<'PARTY'\n{bad}PARTY\nfate-configure /root/bad.yaml",
              check=False)
    assert proc.returncode == 2 and "99999" in proc.stderr


def test_yum_update_keeps_services_healthy(c7):
    c7("cd /e2e/rpms/update && yum -y update fate-*.rpm")
    names = c7("rpm -q --qf '%{NAME}-%{RELEASE}\\n' " + " ".join(FATE_RPMS)).stdout.split()
    assert names == [f"{n}-2" for n in FATE_RPMS]
    c7("for i in $(seq 60); do fate-ctl status >/dev/null && exit 0; sleep 1; done; "
       "fate-ctl status")

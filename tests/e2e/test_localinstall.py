"""Bad input at the boundary, and the ``yum localinstall fate-*.rpm`` path (dnf localinstall
of the files, no repository): a bundle with one corrupted RPM is refused by install.sh before
anything is installed; a party YAML with an error changes nothing on the host."""

from __future__ import annotations

import pytest

from .party import all_in_one
from .scenario import (
    DROP,
    FATE_RPMS,
    UNITS,
    active_units,
    configure,
    localinstall,
    prepare_os,
    snapshot,
    start_target,
    timing,
    wait_status_green,
)

pytestmark = [pytest.mark.root, pytest.mark.slow]

WATCHED = ("/etc/fate", "/data/projects/fate/eggroll/conf", "/data/projects/fate/python/arch/conf",
           "/data/projects/fate/fateboard/conf", "/data/projects/fate/common/mysql",
           "/data/projects/data/fate", "/data/projects/fate/init_env.sh",
           "/etc/systemd/system")
BAD = all_in_one(9999, "127.0.0.1").replace("port: 9370\n", "port: 99999\n", 1)


@pytest.fixture(scope="module")
def box(boxes, drop):
    return boxes("fateli", binds={DROP: drop})


def test_install_sh_refuses_a_bundle_with_a_corrupted_rpm(box):
    prepare_os(box)
    before = box.run("rpm", "-qa").stdout
    box.sh(f"mkdir -p /opt/bad && tar -xf {DROP}/bundle.tar -C /opt/bad")
    rpm = box.sh("ls /opt/bad/fate-bundle-*/rpms/fate-flow-*.rpm").stdout.strip()
    # one byte of the payload changed: still a readable RPM, but not the one that was built
    box.run("python3", "-c", "import sys; f=open(sys.argv[1],'r+b'); f.seek(-100,2); "
            "b=f.read(1); f.seek(-100,2); f.write(bytes([b[0]^0xff]))", rpm)
    proc = box.sh("/opt/bad/fate-bundle-*/install.sh", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "do not match SHA256SUMS" in proc.stderr and "fate-flow" in proc.stderr, proc.stderr
    assert box.run("rpm", "-qa").stdout == before
    assert box.run("ls", "/etc/yum.repos.d/fate-local.repo", check=False).returncode != 0


def test_localinstall_of_the_rpm_files(box):
    localinstall(box)
    names = box.run("rpm", "-q", "--qf", "%{NAME}\n", *FATE_RPMS).stdout.split()
    assert names == list(FATE_RPMS)


def test_a_party_yaml_with_an_error_changes_nothing(box):
    assert "port: 99999" in BAD
    before = snapshot(box, *WATCHED)
    enabled = box.run("systemctl", "list-unit-files", "fate*", "--no-legend").stdout
    proc = configure(box, BAD, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "rollsite.port" in lines[0] and "99999" in lines[0], lines
    assert lines[0].startswith("/root/party.yaml:"), lines  # names the file and line
    assert snapshot(box, *WATCHED) == before
    assert box.run("systemctl", "list-unit-files", "fate*", "--no-legend").stdout == enabled
    assert set(active_units(box).values()) == {"inactive"}


def test_then_the_good_party_yaml_starts_everything(box):
    configure(box, all_in_one(9999, "127.0.0.1"))
    timing("localinstall host: systemctl start fate.target -> healthy", start_target(box))
    assert active_units(box) == dict.fromkeys(UNITS, "active")
    wait_status_green(box)

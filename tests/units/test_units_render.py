"""The rendered systemd units: FATE's real command lines, order, limits, hardening, and
acceptance by systemd itself (systemd-analyze verify) and by the systemd-219 check."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from packager.onhost import catalogue, services
from packager.units_lint import lint_files
from tests.support.units import read_unit, values, write_exe

UNITS = ["fate-mysql", "fate-clustermanager", "fate-nodemanager", "fate-rollsite",
         "fate-flow", "fate-board"]
JAVA = "/data/projects/fate/common/jdk/jdk-8u192/bin/java"
EGG = "/data/projects/fate/eggroll"

# reference/fate-1.4-deploy.md section 3, written out by hand (paths from docs/contracts.md).
EXPECTED_EXECSTART = {
    "fate-mysql": "/data/projects/fate/common/mysql/mysql-8.0.13/bin/mysqld_safe "
                  "--defaults-file=/data/projects/fate/common/mysql/mysql-8.0.13/conf/my.cnf "
                  "--user=app",
    "fate-clustermanager": f"{JAVA} -Dlog4j.configurationFile={EGG}/conf/log4j2.properties "
                           f"-cp {EGG}/lib/*: com.webank.eggroll.core.Bootstrap --bootstraps "
                           "com.webank.eggroll.core.resourcemanager.ClusterManagerBootstrap "
                           f"-c {EGG}/conf/eggroll.properties -p ${{EGGROLL_PORT}} "
                           "-s ${EGGROLL_PROCESS_TAG}",
    "fate-nodemanager": f"{JAVA} -Dlog4j.configurationFile={EGG}/conf/log4j2.properties "
                        f"-cp {EGG}/lib/*: com.webank.eggroll.core.Bootstrap --bootstraps "
                        "com.webank.eggroll.core.resourcemanager.NodeManagerBootstrap "
                        f"-c {EGG}/conf/eggroll.properties -p ${{EGGROLL_PORT}} "
                        "-s ${EGGROLL_PROCESS_TAG}",
    # rollsite's heap: rollsite.max_memory or a quarter of the RAM, from its env file
    "fate-rollsite": f"{JAVA} -Xmx${{FATE_ROLLSITE_XMX}} "
                     f"-Dlog4j.configurationFile={EGG}/conf/log4j2.properties "
                     f"-cp {EGG}/lib/*:{EGG}/conf/ com.webank.eggroll.rollsite.Proxy "
                     f"-c {EGG}/conf/eggroll.properties",
    "fate-flow": "/data/projects/fate/common/python/venv/bin/python "
                 "/data/projects/fate/python/fate_flow/fate_flow_server.py",
    "fate-board": f"{JAVA} -Dspring.config.location=/data/projects/fate/fateboard/conf/"
                  "application.properties -DFATE_DEPLOY_PREFIX=/data/projects/fate/python/logs/ "
                  "-Dssh_config_file=/data/projects/fate/fateboard/ssh/ -Xmx2048m -Xms2048m "
                  "-XX:+PrintGCDetails -XX:+PrintGCDateStamps -Xloggc:gc.log "
                  "-XX:+HeapDumpOnOutOfMemoryError "
                  "-jar /data/projects/fate/fateboard/fateboard.jar",
}
EXPECTED_AFTER = {
    "fate-mysql": set(),
    "fate-clustermanager": {"fate-mysql.service"},
    # the node managers register with the cluster manager (issue 15's order)
    "fate-nodemanager": {"fate-mysql.service", "fate-clustermanager.service"},
    "fate-rollsite": {"fate-mysql.service"},
    "fate-flow": {"fate-mysql.service", "fate-clustermanager.service",
                  "fate-nodemanager.service", "fate-rollsite.service"},
    "fate-board": {"fate-mysql.service", "fate-flow.service"},
}
JAVA_UNITS = {"fate-clustermanager", "fate-nodemanager", "fate-rollsite", "fate-board"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("units-root")
    services.render_units(str(root))
    return root


def unit(rendered: Path, name: str) -> list[tuple[str, str, str]]:
    return read_unit((rendered / services.UNIT_DIR / name).read_text())


def test_render_units_writes_every_file(rendered):
    unit_dir = rendered / services.UNIT_DIR
    names = sorted(p.name for p in unit_dir.iterdir())
    assert names == sorted([u + ".service" for u in UNITS] + ["fate.target"])
    preset = (rendered / services.PRESET_PATH).read_text().split("\n")
    assert "enable fate.target" in preset
    for name in UNITS:
        assert f"enable {name}.service" in preset
        assert (unit_dir / f"{name}.service").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("name", UNITS)
def test_execstart_is_fates_command_line(rendered, name):
    entries = unit(rendered, name + ".service")
    assert values(entries, "Service", "ExecStart") == [EXPECTED_EXECSTART[name]]


@pytest.mark.parametrize("name", UNITS)
def test_order_and_grouping(rendered, name):
    entries = unit(rendered, name + ".service")
    after = set(" ".join(values(entries, "Unit", "After")).split())
    wants = set(" ".join(values(entries, "Unit", "Wants")).split())
    assert after - {"network-online.target"} == EXPECTED_AFTER[name]
    assert wants - {"network-online.target"} == EXPECTED_AFTER[name]
    assert values(entries, "Unit", "PartOf") == ["fate.target"]
    assert values(entries, "Install", "WantedBy") == ["fate.target"]
    assert values(entries, "Unit", "ConditionPathExists") == [f"/etc/fate/env/{name}.env"]


@pytest.mark.parametrize("name", UNITS)
def test_service_settings(rendered, name):
    """Rule 15: the hardening and limits systemd 219 has, in every unit."""
    entries = unit(rendered, name + ".service")
    one = {k: values(entries, "Service", k) for k in (
        "Type", "User", "Group", "EnvironmentFile", "LimitNOFILE", "LimitNPROC", "Restart",
        "StartLimitInterval", "StartLimitBurst", "TimeoutStopSec", "TimeoutStartSec",
        "NoNewPrivileges", "PrivateTmp", "ProtectSystem", "ProtectHome", "SuccessExitStatus",
        "StandardOutput")}
    assert one["Type"] == ["simple"]
    assert one["User"] == ["app"] and one["Group"] == ["apps"]
    assert one["EnvironmentFile"] == [f"-/etc/fate/env/{name}.env"]
    assert one["LimitNOFILE"] == ["65535"] and one["LimitNPROC"] == ["65535"]
    assert one["Restart"] == ["on-failure"]
    assert int(one["StartLimitInterval"][0]) > 0 and int(one["StartLimitBurst"][0]) > 0
    assert int(one["TimeoutStopSec"][0]) > 0 and int(one["TimeoutStartSec"][0]) > 0
    assert one["NoNewPrivileges"] == ["yes"] and one["PrivateTmp"] == ["yes"]
    assert one["ProtectSystem"] == ["full"] and one["ProtectHome"] == ["read-only"]
    assert one["StandardOutput"] == ["journal"]
    assert one["SuccessExitStatus"] == (["143"] if name in JAVA_UNITS else [])
    rw = " ".join(values(entries, "Service", "ReadWriteDirectories")).split()
    assert "-/data/logs/fate" in rw and "-/data/projects/data/fate" in rw
    assert values(entries, "Unit", "StartLimitIntervalSec") == []


@pytest.mark.parametrize("name", UNITS)
def test_readiness_gates(rendered, name):
    entries = unit(rendered, name + ".service")
    pre = values(entries, "Service", "ExecStartPre")
    post = values(entries, "Service", "ExecStartPost")
    timeout = int(values(entries, "Service", "TimeoutStartSec")[0])
    assert len(pre) == 1 and pre[0].startswith("/usr/bin/fate-waitport --timeout ")
    assert pre[0].endswith(" $FATE_WAIT_FOR")
    assert len(post) == 1 and post[0].endswith(" $FATE_LISTEN")
    for line in pre + post:
        assert 0 < int(line.split()[2]) < timeout  # helper gives up before systemd kills it


def test_account_is_a_build_setting(tmp_path):
    services.render_units(str(tmp_path), account=("fate", "fategrp"))
    entries = read_unit((tmp_path / services.UNIT_DIR / "fate-mysql.service").read_text())
    assert values(entries, "Service", "User") == ["fate"]
    assert values(entries, "Service", "Group") == ["fategrp"]
    assert values(entries, "Service", "ExecStart")[0].endswith("--user=fate")


def test_rendered_units_pass_the_systemd_219_check(rendered):
    files = sorted((rendered / services.UNIT_DIR).iterdir())
    assert lint_files(files) == []


def _verify_root(tmp_path: Path, rendered: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree("/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for src in (rendered / services.UNIT_DIR).iterdir():
        shutil.copy(src, root / services.UNIT_DIR / src.name)
    stubs = {s.command[0] for s in catalogue.load()} | {"/usr/bin/fate-waitport"}
    for path in stubs:
        write_exe(root / path.lstrip("/"), "#!/bin/sh\nexit 0\n")
    return root


def _verify(root: Path, name: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", f"--root={root}", name],
                          capture_output=True, text=True, timeout=60)


def test_systemd_analyze_verify_accepts_every_unit(tmp_path, rendered):
    root = _verify_root(tmp_path, rendered)
    for name in [u + ".service" for u in UNITS] + ["fate.target"]:
        proc = _verify(root, name)
        complaints = [line for line in proc.stderr.splitlines()
                      if any(w in line for w in ("Unknown", "unknown", "Invalid", "Failed",
                                                 "not executable", "ignoring"))]
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
        assert complaints == [], f"{name}: {complaints}"


def test_systemd_analyze_harness_catches_unknown_keys(tmp_path, rendered):
    """Control: the same harness does see an unknown directive and a missing binary."""
    root = _verify_root(tmp_path, rendered)
    path = root / services.UNIT_DIR / "fate-flow.service"
    path.write_text(path.read_text().replace("[Service]\n", "[Service]\nFooBar=1\n"))
    proc = _verify(root, "fate-flow.service")
    assert "Unknown key" in proc.stderr and "FooBar" in proc.stderr
    (root / "data/projects/fate/common/python/venv/bin/python").unlink()
    proc = _verify(root, "fate-flow.service")
    assert proc.returncode != 0

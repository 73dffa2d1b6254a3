"""fate-ctl against a host tree (--root), real sockets, real log files and a fake systemctl."""

import json
import os
from pathlib import Path

import pytest

from packager.onhost.configure import paths
from packager.onhost.ctl import cli
from tests.support.configure import DATA
from tests.support.units import PYTHON, closed_port, main_in_c_locale, write_exe

FLOW_LOG = "data/logs/fate/fate_flow/fate_flow_stat.log"
ROLLSITE_LOG = "data/logs/fate/eggroll/bootstrap.rollsite.err"


def ctl(root: Path, *args: str, manager: str = "systemd") -> int:
    return cli.main(["--root", str(root), "--manager", manager, *args])


def set_state(fake: Path, unit: str, active: str, sub: str, condition: str = "yes") -> None:
    (fake / "state" / f"{unit}.service").write_text(
        f"LoadState=loaded\nActiveState={active}\nSubState={sub}\nConditionResult={condition}\n")


@pytest.fixture
def host(tmp_path: Path, listening, fake_systemctl: Path) -> dict:
    """fate-flow (port 1 answers, port 2 does not) and rollsite (answers) on this host."""
    root = tmp_path / "host"
    env = root / "etc/fate/env"
    env.mkdir(parents=True)
    up, down = listening.getsockname()[1], closed_port()
    (env / "fate-flow.env").write_text(f"FATE_LISTEN=127.0.0.1:{up} 0.0.0.0:{down}\n")
    (env / "fate-rollsite.env").write_text(f"FATE_LISTEN=127.0.0.1:{up}\n")
    log = root / FLOW_LOG
    log.parent.mkdir(parents=True)
    log.write_text("[INFO] [2026-11-29 10:00:00] fate_flow_server.py[line:80]: start\n"
                   "[ERROR] [2026-11-29 10:00:01] session.py[line:33]: init eggroll session "
                   "failed: clustermanager 10.0.0.1:4670 unavailable\n"
                   "[INFO] [2026-11-29 10:00:02] retrying\n")
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/bash\napp:x:6000:6000::/home/app:"
                                     "/bin/bash\n")
    set_state(fake_systemctl, "fate-flow", "active", "running")
    set_state(fake_systemctl, "fate-rollsite", "active", "running")
    return {"root": root, "up": up, "down": down, "fake": fake_systemctl}


def test_status_table_shows_state_ports_and_last_error(host, capsys):
    rc = ctl(host["root"], "status")
    out = capsys.readouterr().out
    assert rc == 1  # fate-flow's second port is down
    lines = out.splitlines()
    assert lines[0].split() == ["SERVICE", "STATE", "PORTS", "LAST", "ERROR"]
    flow = next(line for line in lines if line.startswith("fate-flow "))
    assert "active/running" in flow
    assert f"127.0.0.1:{host['up']} up" in flow and f"127.0.0.1:{host['down']} DOWN" in flow
    assert "init eggroll session failed" in flow
    rollsite = next(line for line in lines if line.startswith("fate-rollsite "))
    assert rollsite.rstrip().endswith("-")


def test_status_text_in_the_c_locale_shows_utf8_from_systemctl_the_logs_and_the_hint(host):
    """CentOS 7's python3 (3.6) in the C locale read systemctl's output as ASCII (a unit's
    description in UTF-8 ended ``status`` in a UnicodeDecodeError) and wrote stdout as
    ASCII (a last error line in Chinese, the hint's "seed \u00a7" in UnicodeEncodeError)."""
    root = host["root"]
    state = host["fake"] / "state" / "fate-flow.service"
    state.write_text(state.read_text() + "Description=FATE Flow \u2014 \u8c03\u5ea6\n",
                     encoding="utf-8")
    log = root / FLOW_LOG
    log.write_text("[ERROR] [2026-11-29 10:00:03] session.py[line:33]: \u8fde\u63a5\u5931\u8d25 "
                   "clustermanager 10.0.0.1:4670\n", encoding="utf-8")
    conf = root / paths.EGGROLL_CONF.lstrip("/")
    conf.parent.mkdir(parents=True)
    conf.write_text("eggroll.session.processors.per.node=6\n")
    (root / paths.APPLIED_PARTY.lstrip("/")).write_text(
        (DATA / "guest-3hosts.yaml").read_text())  # 2 nodemanagers
    proc = main_in_c_locale("packager.onhost.ctl.cli", [
        "--root", root, "--manager", "systemd", "status"])
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert proc.returncode == 1 and not err, err  # 1: fate-flow's second port is down
    flow = next(line for line in out.splitlines() if line.startswith("fate-flow "))
    assert "active/running" in flow and "\u8fde\u63a5\u5931\u8d25 clustermanager" in flow
    assert "use partition 12 for a job's tables (seed \u00a77.1)" in out


def test_status_json(host, capsys):
    ctl(host["root"], "status", "--json")
    doc = json.loads(capsys.readouterr().out)
    rows = {r["service"]: r for r in doc["services"]}
    assert set(rows) == {"fate-flow", "fate-rollsite"}
    assert rows["fate-flow"]["healthy"] is False
    assert rows["fate-rollsite"]["healthy"] is True
    assert rows["fate-flow"]["last_error"]["file"].endswith(FLOW_LOG)
    assert [p["answering"] for p in rows["fate-flow"]["ports"]] == [True, False]


def test_status_healthy_host_exits_0(host, capsys):
    (host["root"] / "etc/fate/env/fate-flow.env").write_text(
        f"FATE_LISTEN=127.0.0.1:{host['up']}\n")
    assert ctl(host["root"], "status") == 0


def test_status_reports_failed_and_skipped_units(host, capsys):
    set_state(host["fake"], "fate-rollsite", "failed", "failed")
    set_state(host["fake"], "fate-flow", "inactive", "dead", condition="no")
    assert ctl(host["root"], "status", "--json") == 1
    rows = {r["service"]: r for r in json.loads(capsys.readouterr().out)["services"]}
    assert rows["fate-rollsite"]["state"] == "failed"
    assert rows["fate-flow"]["state"] == "skipped (no env file)"


def test_status_without_configuration(tmp_path, fake_systemctl, capsys):
    assert ctl(tmp_path, "status") == 1
    assert "no FATE services on this host" in capsys.readouterr().out


def test_logs_prints_the_newest_lines(host, capsys):
    assert ctl(host["root"], "logs", "fateflow", "-n", "2") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"==> {host['root'] / FLOW_LOG} <=="
    assert out[1].startswith("[ERROR]") and out[2] == "[INFO] [2026-11-29 10:00:02] retrying"


def test_logs_unknown_service_is_a_usage_error(host, capsys):
    assert ctl(host["root"], "logs", "eggroll") == 2
    assert "unknown service 'eggroll'" in capsys.readouterr().err


def test_logs_service_without_files(host, capsys):
    assert ctl(host["root"], "logs", "fate-board") == 1
    assert "no log files for fate-board" in capsys.readouterr().err


# ---------------------------------------------------------------- toy

TOY = f"""#!{PYTHON}
import os, sys
guest, host, mode = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
open(os.path.join(here, "ran"), "w").write(" ".join(sys.argv[1:]))
if guest == "9999":
    print("job status is running")
    print("[INFO] secure_add_guest.py[line:117]: "
          "success to calculate secure_sum, it is 1999.9999999999998")
elif guest == "8888":
    print("job status is running")
    raise ValueError("job running time exceed, please check federation or eggroll log")
else:
    print("[ERROR] secure_add_host.py[line:70]: federation get remote failed")
"""


@pytest.fixture
def fate_home(host) -> Path:
    home = host["root"] / "data/projects/fate"
    toy_dir = home / "python/examples/toy_example"
    write_exe(toy_dir / "run_toy_example.py", TOY)
    bindir = host["root"] / "venv-bin"
    bindir.mkdir()
    (bindir / "python").symlink_to(PYTHON)
    (home / "init_env.sh").write_text(f"export PATH={bindir}:$PATH\n")
    conf = home / "eggroll/conf"
    conf.mkdir(parents=True)
    (conf / "eggroll.properties").write_text("eggroll.rollsite.port=9370\n"
                                             "eggroll.rollsite.party.id=9999\n")
    (host["root"] / "etc/fate/env/fate-flow.env").write_text(
        f"FATE_LISTEN=127.0.0.1:{host['up']}\n")
    return toy_dir


def test_toy_success_with_party_id_from_eggroll_properties(host, fate_home, capsys):
    assert ctl(host["root"], "toy") == 0
    out = capsys.readouterr().out
    assert "toy: success:" in out and "secure_sum, it is 1999.99" in out
    assert (fate_home / "ran").read_text() == "9999 9999 1"


def test_toy_timeout_in_fate_is_explained(host, fate_home, capsys):
    assert ctl(host["root"], "toy", "8888", "10000") == 1
    out = capsys.readouterr().out
    assert "toy: FAILED: the job did not finish within the toy's 100 s" in out
    assert (fate_home / "ran").read_text() == "8888 10000 1"


def test_toy_failed_job_that_exits_0_is_still_a_failure(host, fate_home, capsys):
    assert ctl(host["root"], "toy", "7777", "10000") == 1
    out = capsys.readouterr().out
    assert "toy: FAILED: the job failed" in out
    assert "federation get remote failed" in out


def test_toy_names_the_port_that_does_not_answer_and_does_not_start(host, fate_home, capsys):
    down = closed_port()
    (host["root"] / "etc/fate/env/fate-flow.env").write_text(
        f"FATE_LISTEN=127.0.0.1:{host['up']}\nFATE_WAIT_FOR=127.0.0.1:{down}\n")
    (host["root"] / "etc/fate/env/fate-rollsite.env").write_text(
        f"FATE_LISTEN=127.0.0.1:{closed_port()}\n")
    assert ctl(host["root"], "toy", "9999", "10000") == 1
    out = capsys.readouterr().out
    assert "toy: FAILED: rollsite " in out and "not answering on 127.0.0.1" in out
    assert f"dependency of fate_flow {down} not answering on 127.0.0.1" in out
    assert not (fate_home / "ran").exists()


def test_toy_without_fate_installed(host, capsys):
    assert ctl(host["root"], "toy", "1", "2") == 1
    out = capsys.readouterr().out
    assert "init_env.sh is missing (is FATE installed on this host?)" in out


# ---------------------------------------------------------------- doctor

def test_doctor_reports_missing_binaries_down_ports_and_missing_drift_check(host, capsys):
    rc = ctl(host["root"], "doctor")
    out = capsys.readouterr().out
    assert rc == 1
    assert "ok   service account app exists" in out
    assert ("FAIL fate-flow: /data/projects/fate/common/python/venv/bin/python is missing"
            in out)
    assert f"not answering: 127.0.0.1:{host['down']}" in out
    assert "WARN config drift not checked" in out
    assert out.rstrip().splitlines()[-1].startswith("doctor: ")


def test_doctor_flags_a_port_held_by_another_process(host, capsys):
    set_state(host["fake"], "fate-rollsite", "inactive", "dead")
    ctl(host["root"], "doctor")
    out = capsys.readouterr().out
    assert (f"FAIL fate-rollsite is not running but 127.0.0.1:{host['up']} answers: "
            f"pid {os.getpid()} (" in out), out  # the listener is this test process


def test_doctor_without_an_applied_party(host, capsys):
    ctl(host["root"], "doctor")
    assert "WARN config drift not checked: no /etc/fate/party.yaml" in capsys.readouterr().out


def test_status_asks_each_port_its_protocol_and_shows_not_answering(host, capsys):
    """The listening socket accepts (the kernel's backlog) but never says a word: a plain
    connect called that "up"; an HTTP question gets no answer."""
    (host["root"] / "etc/fate/env/fate-rollsite.env").write_text(
        f"FATE_LISTEN=grpc://127.0.0.1:{host['up']}\n")
    rc = ctl(host["root"], "status")
    out = capsys.readouterr().out
    assert rc == 1
    rollsite = next(line for line in out.splitlines() if line.startswith("fate-rollsite "))
    assert f"grpc://127.0.0.1:{host['up']} not answering" in rollsite
    assert ctl(host["root"], "status", "--json") == 1
    doc = json.loads(capsys.readouterr().out)
    row = next(r for r in doc["services"] if r["service"] == "fate-rollsite")
    assert row["ports"] == [{"endpoint": f"127.0.0.1:{host['up']}", "protocol": "grpc",
                             "probe": "not answering", "answering": False}]
    assert row["healthy"] is False


def test_shared_options_after_the_subcommand(host, capsys):
    """`fate-ctl status --root DIR --json` as well as `fate-ctl --root DIR status --json`."""
    rc = cli.main(["status", "--root", str(host["root"]), "--manager", "systemd", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert {row["service"] for row in report["services"]} == {"fate-flow", "fate-rollsite"}
    rc = cli.main(["--json", "--root", str(host["root"]), "status", "--manager", "systemd"])
    assert json.loads(capsys.readouterr().out)["manager"] == "systemd"


def test_every_subcommand_has_json_and_version(host, capsys):
    assert ctl(host["root"], "logs", "fate-flow", "-n", "1", "--json") == 0
    logs = json.loads(capsys.readouterr().out)
    assert logs["service"] == "fate-flow"
    assert logs["files"][0]["lines"] == ["[INFO] [2026-11-29 10:00:02] retrying"]
    rc = ctl(host["root"], "doctor", "--json")
    doctor = json.loads(capsys.readouterr().out)
    assert rc == doctor["exit_code"] == 1
    assert doctor["failed"] >= 1 and doctor["ok"] is False
    assert {"level": "ok", "message": "service account app exists"} in doctor["checks"]
    rc = ctl(host["root"], "toy", "9999", "--json")
    toy = json.loads(capsys.readouterr().out)
    assert rc == toy["exit_code"] == 1
    assert toy["lines"][0].startswith("toy: FAILED: ")
    empty = host["root"].parent / "empty"
    empty.mkdir()
    assert ctl(empty, "status", "--json", manager="none") == 1
    assert json.loads(capsys.readouterr().out)["services"] == []
    for command in ([], ["status"], ["logs"], ["toy"], ["doctor"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(command + ["--version"])
        assert exited.value.code == 0
        assert capsys.readouterr().out.startswith("fate-ctl ")


def test_doctor_names_the_backup_when_mysql_refuses_downgraded_data(host, capsys):
    root = host["root"]
    (root / "etc/fate/env/fate-mysql.env").write_text("FATE_LISTEN=\n")
    log = root / "data/logs/fate/mysql/mysqld.err"
    log.parent.mkdir(parents=True)
    log.write_text("2026-12-01T10:00:00 0 [ERROR] [MY-013171] [InnoDB] Cannot boot server "
                   "version 80013 on data directory built by version 80023. Downgrade is not "
                   "supported\n")
    backups = root / "data/projects/data/fate/backups"
    backups.mkdir(parents=True)
    old, new = (backups / f"fate-backup-guest-9999-127.0.0.1-2026120{d}T000000Z.tar.gz"
                for d in (1, 2))
    old.write_text("x")
    new.write_text("x")
    os.utime(old, (1, 1))
    ctl(root, "doctor")
    out = capsys.readouterr().out
    assert ("the data format changed on upgrade; restore the backup taken before the upgrade: "
            f"fate-ctl restore {new}") in out, out

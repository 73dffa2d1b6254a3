"""Applying to a scratch root: real files, owners, modes, backups, units, idempotence."""

import os
from pathlib import Path

import yaml

from packager.onhost.configure.passwords import generate, load
from packager.onhost.configure.paths import Root
from tests.support.configure import APP_UID, DATA, party_file, snapshot

BASE = (DATA / "guest-3hosts.yaml").read_text()
SECRET_VALUES = ("Sample-Fate-Pw-1", "Sample-Root-Pw-1")
EGG = "data/projects/fate/eggroll/conf/eggroll.properties"
WANTS = "etc/systemd/system/fate.target.wants"


def apply(fc, party: Path, root: Path, host: str = "10.0.1.2", *extra: str):
    result = fc(party, "--root", root, "--host", host, *extra)
    for value in SECRET_VALUES:
        assert value not in result.out + result.err, "a password reached the output"
    return result


def test_first_run_writes_files_with_owner_and_mode(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    result = apply(fc, party, scratch_root)
    assert result.rc == 0, result.err
    egg = scratch_root / EGG
    info = egg.stat()
    assert (info.st_mode & 0o7777, info.st_uid, info.st_gid) == (0o600, APP_UID, APP_UID)
    assert "eggroll.session.processors.per.node=6" in egg.read_text()
    secrets = (scratch_root / "etc/fate/secrets.yaml").stat()
    assert (secrets.st_mode & 0o7777, secrets.st_uid) == (0o600, 0)
    env = scratch_root / "etc/fate/env/fate-flow.env"
    assert env.stat().st_mode & 0o7777 == 0o644
    assert (scratch_root / "etc/fate/party.yaml").read_text() == BASE
    # units of this host's roles enabled through systemctl --root, the others not
    assert sorted(os.listdir(scratch_root / WANTS)) == [
        "fate-board.service", "fate-clustermanager.service", "fate-flow.service",
        "fate-nodemanager.service"]
    assert (scratch_root / "etc/systemd/system/multi-user.target.wants/fate.target").is_symlink()
    assert not list(scratch_root.rglob(".*.fate-configure.*"))  # no temp file left behind


def test_second_run_changes_nothing_and_says_so(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    assert apply(fc, party, scratch_root).rc == 0
    before = snapshot(scratch_root)
    result = apply(fc, party, scratch_root, "10.0.1.2", "--restart")
    assert result.rc == 0
    assert "nothing changed: already configured" in result.out
    assert "wrote" not in result.out and "restart" not in result.out
    assert snapshot(scratch_root) == before


def test_check_diff_shows_masked_diff_and_changes_nothing(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    assert apply(fc, party, scratch_root).rc == 0
    party.write_text(BASE.replace("egg: 6", "egg: 8").replace("Sample-Fate-Pw-1", "New-Pw-22"))
    before = snapshot(scratch_root)
    result = apply(fc, party, scratch_root, "10.0.1.2", "--check", "--diff")
    assert result.rc == 0
    assert snapshot(scratch_root) == before
    assert "--- /data/projects/fate/eggroll/conf/eggroll.properties" in result.out
    assert "-eggroll.session.processors.per.node=6" in result.out.splitlines()
    assert "+eggroll.session.processors.per.node=8" in result.out.splitlines()
    assert "New-Pw-22" not in result.out
    # a changed password shows as a changed line, without either value
    assert "-eggroll.resourcemanager.clustermanager.jdbc.password=********" in result.out
    assert "+eggroll.resourcemanager.clustermanager.jdbc.password=********" in result.out
    assert "dry run: " in result.out and "nothing was changed" in result.out


def test_dry_run_on_a_fresh_root_writes_nothing(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    before = snapshot(scratch_root)
    result = apply(fc, party, scratch_root, "10.0.1.3", "--check")
    assert result.rc == 0
    assert "would write /data/projects/fate/common/mysql/mysql-8.0.13/conf/my.cnf (new)" \
        in result.out
    assert "would enable fate-mysql" in result.out
    assert snapshot(scratch_root) == before


def test_changed_files_are_backed_up_keeping_three(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    assert apply(fc, party, scratch_root).rc == 0
    contents = [(scratch_root / EGG).read_text()]
    for egg in (7, 8, 9, 10):
        party.write_text(BASE.replace("egg: 6", f"egg: {egg}"))
        result = apply(fc, party, scratch_root, "10.0.1.2", "--restart")
        assert result.rc == 0
        assert f"wrote /{EGG} (content)" in result.out
        # no systemd here: restarting is reported, not attempted
        assert "not restarting fate-clustermanager fate-nodemanager fate-flow" in result.out
        contents.append((scratch_root / EGG).read_text())
    backups = sorted(p.name for p in (scratch_root / EGG).parent.iterdir()
                     if ".fate-configure.bak" in p.name)
    assert backups == ["eggroll.properties.fate-configure.bak",
                       "eggroll.properties.fate-configure.bak.1",
                       "eggroll.properties.fate-configure.bak.2"]
    base = scratch_root / (EGG + ".fate-configure.bak")
    assert base.read_text() == contents[3]  # newest backup = the previous version
    assert Path(str(base) + ".2").read_text() == contents[1]
    assert base.stat().st_mode & 0o7777 == 0o600  # a backup of a secret stays secret


def test_role_moved_away_disables_unit_and_removes_env(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    assert apply(fc, party, scratch_root).rc == 0
    assert (scratch_root / WANTS / "fate-board.service").is_symlink()
    moved = BASE.replace("  fateboard:\n    ips: [10.0.1.2]", "  fateboard:\n    ips: [10.0.1.1]")
    party.write_text(moved)
    result = apply(fc, party, scratch_root)
    assert result.rc == 0
    assert "disable fate-board" in result.out
    assert "removed /etc/fate/env/fate-board.env" in result.out
    assert not (scratch_root / WANTS / "fate-board.service").exists()
    assert not (scratch_root / "etc/fate/env/fate-board.env").exists()
    # the unit no longer runs here even if enabled again: ConditionPathExists= on its env file
    assert (scratch_root / "etc/fate/env/fate-board.env.fate-configure.bak").exists()


def test_secrets_are_reused_and_yaml_password_wins(tmp_path, scratch_root, fc):
    """Host 10.0.1.3 runs MySQL: without passwords in the YAML it generates them once."""
    party = party_file(tmp_path, BASE.replace("    dbpasswd: Sample-Fate-Pw-1\n", "")
                       .replace("    root_passwd: Sample-Root-Pw-1\n", ""))
    result = fc(party, "--root", scratch_root, "--host", "10.0.1.3", "--check")
    assert result.rc == 0
    assert "would write /etc/fate/secrets.yaml (new)" in result.out
    assert load(Root(str(scratch_root))) is None  # the dry run stored nothing
    secrets_file = scratch_root / "etc/fate/secrets.yaml"
    secrets_file.parent.mkdir(parents=True)
    secrets_file.write_text("mysql_fate: Kept-Fate-Pw-123\nmysql_root: Kept-Root-Pw-123\n")
    secrets_file.chmod(0o600)
    before = secrets_file.read_text()
    result = fc(party, "--root", scratch_root, "--host", "10.0.1.2", "--check", "--diff")
    assert "Kept-Fate-Pw-123" not in result.out
    assert result.rc == 0
    assert secrets_file.read_text() == before
    party.write_text(BASE)  # now the YAML names the fate password: it wins
    assert fc(party, "--root", scratch_root, "--host", "10.0.1.2").rc == 0
    stored = yaml.safe_load(secrets_file.read_text())
    assert stored == {"mysql_fate": "Sample-Fate-Pw-1", "mysql_root": "Sample-Root-Pw-1"}
    assert "password=Sample-Fate-Pw-1" in (scratch_root / EGG).read_text()


def test_generated_passwords_are_strong_and_distinct():
    values = {generate() for _ in range(50)}
    assert len(values) == 50
    assert all(len(v) == 32 and all(ord(c) < 128 for c in v) for v in values)


def test_world_readable_party_file_gets_a_warning(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    party.chmod(0o644)
    result = apply(fc, party, scratch_root)
    assert result.rc == 0
    assert "party.yaml is readable by other users and may hold passwords" in result.err


def test_ansible_supervisor_leftovers_stop_apply(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    leftover = scratch_root / "data/projects/common/supervisord/supervisord.d/fate-fateflow.conf"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("[program:fate-fateflow]\ncommand=/bin/true\n")
    before = snapshot(scratch_root)
    result = apply(fc, party, scratch_root)
    assert result.rc == 1
    assert result.err.count("supervisor_fate_conf exists (fate-fateflow.conf)") == 1
    assert snapshot(scratch_root) == before
    check = fc("check", party, "--root", scratch_root, "--host", "10.0.1.2")
    assert check.rc == 1
    assert check.err.splitlines() == [
        "fate-configure: error: pre-flight: supervisor_fate_conf exists (fate-fateflow.conf): an "
        "ansible-nfate install's supervisor would start the same services; remove "
        "/data/projects/common/supervisord/supervisord.d/fate-*.conf or use --init supervisor"]


def test_leftover_mysql_datadir_stops_apply(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    data = scratch_root / "data/projects/data/fate/mysql"
    data.mkdir(parents=True)
    (data / "ibdata1").write_bytes(b"\0" * 16)
    before = snapshot(scratch_root)
    result = apply(fc, party, scratch_root, "10.0.1.3")
    assert result.rc == 1
    assert "please rename /data/projects/data/fate/mysql" in result.err
    assert snapshot(scratch_root) == before


def test_later_runs_reuse_the_recorded_host(tmp_path, scratch_root, fc):
    """A --root tree (or a host behind NAT) has none of the party's addresses: the address
    given once with --host is remembered, and what fate-ctl doctor's drift check relies on."""
    party = party_file(tmp_path, BASE)
    assert apply(fc, party, scratch_root).rc == 0
    assert (scratch_root / "etc/fate/host").read_text() == "10.0.1.2\n"
    result = fc(party, "--root", scratch_root, "--check")
    assert result.rc == 0, result.err
    assert "guest 9999 on 10.0.1.2" in result.out
    assert "dry run: nothing would change" in result.out


def test_check_passes_on_a_clean_root(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    before = snapshot(scratch_root)
    result = fc("check", party, "--root", scratch_root, "--host", "10.0.1.2")
    assert result.rc == 0
    assert "check passed" in result.out
    assert snapshot(scratch_root) == before


def _per_node(root: Path) -> str:
    for line in (root / EGG).read_text().splitlines():
        if line.startswith("eggroll.session.processors.per.node="):
            return line.split("=", 1)[1]
    raise AssertionError("no eggroll.session.processors.per.node")


def test_processors_per_node_from_the_nodemanager_hosts_cpus(tmp_path, scratch_root, fc):
    """10.0.1.1 runs rollsite only: its own CPUs say nothing of the nodemanager hosts."""
    party = party_file(tmp_path, BASE.replace("    egg: 6\n", "    concurrent_jobs: 2\n"))
    guessed = apply(fc, party, scratch_root, "10.0.1.1")
    assert guessed.rc == 0, guessed.err
    warnings = [line for line in guessed.err.splitlines() if "processors.per.node" in line]
    assert len(warnings) == 1, guessed.err
    assert "runs no nodemanager: set eggroll.cores_per_node in" in warnings[0]
    assert "--cores-per-node N" in warnings[0]
    assert _per_node(scratch_root) == str(max(1, int((os.cpu_count() or 1) * 0.8 / 2)))
    given = apply(fc, party, scratch_root, "10.0.1.1", "--cores-per-node", "40")
    assert "processors.per.node" not in given.err
    assert _per_node(scratch_root) == "16"                      # 40 x 0.8 / 2
    # a later run without the option (by hand, doctor, restore) keeps the count it was given
    again = apply(fc, party, scratch_root, "10.0.1.1")
    assert again.rc == 0 and "processors.per.node" not in again.err
    assert _per_node(scratch_root) == "16"
    party.write_text(BASE.replace("    egg: 6\n", "    concurrent_jobs: 2\n    "
                                  "cores_per_node: 10\n"))
    assert apply(fc, party, scratch_root, "10.0.1.1", "--cores-per-node", "40").rc == 0
    assert _per_node(scratch_root) == "4"                       # the party YAML wins
    party.write_text(BASE.replace("    egg: 6\n", "    concurrent_jobs: 2\n"))
    own = apply(fc, party, scratch_root, "10.0.1.2")            # runs a nodemanager
    assert own.rc == 0 and "processors.per.node" not in own.err


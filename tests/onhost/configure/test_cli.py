"""fate-configure as an operator types it: options in any order, `check` on any machine,
every error of a file at once, strict import-ansible, --diff masking, --json, --version."""

import json
import stat

import yaml

from packager.onhost import __version__
from tests.support.configure import DATA, party_file, snapshot

BASE = (DATA / "guest-3hosts.yaml").read_text()
P = "party.yaml"


def test_options_before_the_party_file(tmp_path, monkeypatch, scratch_root, fc):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE)
    dry = fc("--check", P, "--root", scratch_root, "--host", "10.0.1.1")
    assert dry.rc == 0, dry.err
    assert "dry run: " in dry.out
    first = fc("--root", scratch_root, "--host", "10.0.1.1", "check", P)
    assert first.rc == 0, first.err
    assert "fate-configure: check passed" in first.out


def test_check_validates_the_whole_party_on_any_machine(tmp_path, monkeypatch, fc):
    """This test machine has none of the party's addresses and none of its RPMs."""
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE)
    result = fc("check", P, "--host", "10.0.1.2")
    assert result.rc == 0, result.err
    assert result.out.splitlines() == [
        "fate-configure: party.yaml: guest 9999 is valid: 10.0.1.2 clustermanager, nodemanager, "
        "fate_flow, fateboard",
        "fate-configure: pre-flight skipped: 10.0.1.2 is not an address of this machine (run "
        "`fate-configure check` on each host for its own pre-flight)"]
    every = fc("check", P)
    assert every.rc == 0, every.err
    assert "10.0.1.1 rollsite; 10.0.1.2 clustermanager, nodemanager" in every.out
    assert "10.0.1.3 mysql, nodemanager" in every.out
    assert "this machine has none of the party's addresses" in every.out
    party_file(tmp_path, BASE.replace("{name: fateflow, ip: 10.0.1.2, port: 9360}",
                                      "{name: fateflow, ip: 10.0.1.2, port: 9361}"))
    bad = fc("check", P, "--host", "10.0.1.2")
    assert bad.rc == 2
    assert bad.err.splitlines() == [
        f"{P}:14 guest.rollsite.rules[1]: fateflow 10.0.1.2:9361 does not match fate_flow "
        "ips[0]/grpcPort 10.0.1.2:9360; fix the route or the service"]


def test_preflight_of_a_host_tree_is_separate_and_exits_1(tmp_path, monkeypatch, fc):
    """--root: the tree is the host; it has no fate-* units installed."""
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE)
    empty = tmp_path / "empty-root"
    empty.mkdir()
    result = fc("check", P, "--root", empty, "--host", "10.0.1.1")
    assert result.rc == 1
    assert "guest 9999 is valid" in result.out
    assert result.err.splitlines() == [
        "fate-configure: error: pre-flight: fate-rollsite.service not installed: install the "
        "package providing it, or remove this host from those services",
        "fate-configure: error: pre-flight: account app:apps does not exist on this host; "
        "install fate-common first (its %pre creates app:apps) or pass --account USER:GROUP"]


def test_every_error_of_a_file_in_one_run(tmp_path, monkeypatch, scratch_root, fc):
    """Two schema mistakes and a route mismatch: all three, in line order, in one run."""
    monkeypatch.chdir(tmp_path)
    text = BASE.replace("partyid: 9999", "partyid: abc").replace("egg: 6", "egg: 0").replace(
        "{name: default, ip: 10.0.1.1", "{name: default, ip: 10.0.1.9")
    party_file(tmp_path, text)
    for command in (("check", P), (P, "--root", scratch_root, "--host", "10.0.1.1")):
        result = fc(*command)
        assert result.rc == 2
        assert result.err.splitlines() == [
            f"{P}:5 guest.partyid: the string 'abc' is not an integer",
            f"{P}:13 guest.rollsite.rules[0]: default 10.0.1.9:9370 does not match rollsite "
            "ips[0]/port 10.0.1.1:9370; fix the route or the service",
            f"{P}:20 guest.eggroll.egg: 0 is below the minimum 1; use 1 or more"]


def test_a_schema_mistake_is_not_reported_again_by_the_party_checks(tmp_path, monkeypatch, fc):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE.replace("    port: 9370\n    default", "    port: 99999\n"
                                      "    default").replace("ips: [10.0.1.1]", "ips: [1.2.3]")
               + "  eggroll:\n    egg: 2\n")
    result = fc("check", P)
    assert result.rc == 2
    assert result.err.splitlines() == [
        f"{P}:8 guest.rollsite.ips[0]: '1.2.3' is not an IPv4 address (like 192.168.0.2)",
        f"{P}:9 guest.rollsite.port: 99999 is not a port (1-65535)",
        f"{P}:29 guest.eggroll: duplicate key (first at line 19); keep one"]


def test_json_and_version_on_every_subcommand(tmp_path, monkeypatch, fc):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE.replace("partyid: 9999", "partyid: abc"))
    bad = fc("check", P, "--json")
    assert bad.rc == 2
    report = json.loads(bad.out)
    assert report["ok"] is False and report["exit_code"] == 2
    assert report["errors"] == [{"file": P, "line": 5, "path": "guest.partyid", "kind": "input",
                                 "message": "the string 'abc' is not an integer"}]
    party_file(tmp_path, BASE)
    good = json.loads(fc("--json", "check", P, "--host", "10.0.1.3").out)
    assert good["ok"] is True and good["preflight"] == "skipped"
    assert good["hosts"] == {"10.0.1.3": ["mysql", "nodemanager"]}
    imported = json.loads(fc("import-ansible", DATA / "fate_guest", "--json").out)
    assert yaml.safe_load(imported["party"])["guest"]["partyid"] == 9999
    assert any("published default password" in w for w in imported["warnings"])
    assert "guest:" in json.loads(fc("example", "--json").out)["example"]
    assert json.loads(fc("schema", "--json").out)["properties"]["guest"]
    for command in ((), ("check",), ("apply",), ("import-ansible",), ("schema",), ("example",)):
        try:
            fc(*command, "--version")
        except SystemExit as exc:
            assert exc.code == 0
        else:
            raise AssertionError(f"{command} --version did not exit")


def test_version_is_printed(capsys, fc):
    try:
        fc("--version")
    except SystemExit:
        pass
    assert capsys.readouterr().out == f"fate-configure {__version__}\n"


DUPLICATE = (DATA / "fate_guest").read_text().replace("    partyid: 9999\n",
                                                        "    partyid: 9999\n    partyid: 10000\n")
TYPO = (DATA / "fate_guest").read_text().replace("      port: 9370\n      secure_port",
                                                 "      prot: 9370\n      secure_port")


def test_import_refuses_a_key_given_twice(tmp_path, fc):
    var_file = tmp_path / "fate_guest"
    var_file.write_text(DUPLICATE)
    for extra in ((), ("--drop-unknown",)):
        result = fc("import-ansible", var_file, *extra)
        assert result.rc == 2
        assert result.out == ""
        assert result.err.splitlines() == [
            f"{var_file}:3 guest.partyid: duplicate key (first at line 2); keep one"]


def test_import_refuses_an_unknown_key_unless_told_to_drop_it(tmp_path, fc):
    var_file = tmp_path / "fate_guest"
    var_file.write_text(TYPO)
    out = tmp_path / "party.yaml"
    result = fc("import-ansible", var_file, "-o", out)
    assert result.rc == 2
    assert not out.exists()
    assert result.err.splitlines() == [
        f"{var_file}:7 guest.rollsite.prot: not a key fate-configure knows (known here: "
        "client_secure, default_rules, enable, ips, keys_dir, max_memory, pool_size, "
        "port, rules, secure_port, server_secure); fix the spelling, or pass --drop-unknown to "
        "drop it"]
    dropped = fc("import-ansible", var_file, "--drop-unknown")
    assert dropped.rc == 0, dropped.err
    assert f"{var_file}:7 guest.rollsite.prot: not used by fate-configure, dropped " \
           "(--drop-unknown)" in dropped.err
    assert "prot" not in yaml.safe_load(dropped.out)["guest"]["rollsite"]


def test_import_writes_a_file_with_passwords_0600_and_warns_once(tmp_path, monkeypatch, fc):
    monkeypatch.chdir(tmp_path)
    result = fc("import-ansible", DATA / "fate_guest", DATA / "base_init", DATA / "fate_init",
                "-o", P)
    assert result.rc == 0, result.err
    assert stat.S_IMODE((tmp_path / P).stat().st_mode) == 0o600
    lines = result.err.splitlines()
    assert len(lines) == len(set(lines)) == 2  # dbpasswd, root_passwd: once each
    check = fc("check", P)
    assert check.rc == 0, check.err
    assert "readable by other users" not in check.err
    assert len(check.err.splitlines()) == len(set(check.err.splitlines()))


def test_diff_masks_values_not_comments_and_keeps_the_prefix(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE.replace("Sample-Fate-Pw-1", "fate"))
    assert fc(party, "--root", scratch_root, "--host", "10.0.1.2").rc == 0
    egg = scratch_root / "data/projects/fate/eggroll/conf/eggroll.properties"
    egg.write_text("# Password of dbuser; empty = no password\n" + egg.read_text())
    before = snapshot(scratch_root)
    result = fc(party, "--root", scratch_root, "--host", "10.0.1.2", "--check", "--diff")
    assert result.rc == 0, result.err
    assert snapshot(scratch_root) == before
    lines = result.out.splitlines()
    assert "-# Password of dbuser; empty = no password" in lines
    assert "--- /data/projects/fate/eggroll/conf/eggroll.properties" in lines
    assert "fate-configure: would write /data/projects/fate/eggroll/conf/eggroll.properties " \
           "(content)" in lines
    assert not [line for line in lines if line.startswith("would ")]
    assert "eggroll.resourcemanager.clustermanager.jdbc.password=fate" not in result.out


def test_check_of_a_tree_without_host_says_how_to_preflight_it(tmp_path, monkeypatch,
                                                                scratch_root, fc):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE)
    result = fc("check", P, "--root", scratch_root)
    assert result.rc == 0, result.err
    assert f"pre-flight skipped: pass --host IP to say which of the party's hosts " \
           f"{scratch_root} is" in result.out


def test_a_bad_world_readable_file_gets_its_problems_only(tmp_path, monkeypatch, fc):
    """The permission warning waits until the file is valid: one line per problem."""
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE.replace("partyid: 9999", "partyid: abc")).chmod(0o644)
    for command in (("check", P), (P, "--host", "10.0.1.1")):
        result = fc(*command)
        assert result.rc == 2
        assert result.err.splitlines() == [f"{P}:5 guest.partyid: the string 'abc' is not an "
                                           "integer"]

"""import-ansible on the seed's var files; the shipped JSON Schema and example."""

import json
import subprocess
from pathlib import Path

import yaml

from packager.onhost.configure.example import render_example
from packager.onhost.configure.loader import load_text
from packager.onhost.configure.schema import json_schema, validate_schema
from tests.support.configure import DATA, party_file, snapshot

REPO = Path(__file__).resolve().parents[3]


def test_import_seed_guest_var_file_gives_a_valid_party(fc):
    result = fc("import-ansible", DATA / "fate_guest")
    assert result.rc == 0, result.err
    doc = load_text(result.out, "converted.yaml")
    data, errors = validate_schema(doc)
    assert errors == []
    guest = yaml.safe_load(result.out)["guest"]
    assert guest["partyid"] == 9999
    assert guest["rollsite"]["ips"] == ["192.168.0.2"]
    assert guest["rollsite"]["default_rules"] == [
        {"name": "default", "ip": "192.168.0.1", "port": 9370, "is_secure": False}]
    assert guest["fate_flow"]["grpcPort"] == 9360
    assert guest["mysql"]["dbpasswd"] == "fate_deV2999"  # kept: an existing MySQL uses it
    assert "guest.mysql.dbpasswd: the seed's published default password" in result.err


def test_import_with_base_and_fate_init(fc):
    result = fc("import-ansible", DATA / "fate_guest", DATA / "base_init", DATA / "fate_init")
    assert result.rc == 0, result.err
    guest = yaml.safe_load(result.out)["guest"]
    assert guest["mysql"]["root_passwd"] == "password"  # fate_init mysql.passwd
    assert "guest.mysql.root_passwd: the seed's published default password" in result.err
    assert "differs from the packaged layout" not in result.err  # base_init has our paths


def test_imported_party_passes_the_whole_pipeline(tmp_path, scratch_root, fc):
    converted = fc("import-ansible", DATA / "fate_guest")
    party = party_file(tmp_path, converted.out)
    before = snapshot(scratch_root)
    result = fc(party, "--root", scratch_root, "--host", "192.168.0.2", "--check")
    assert result.rc == 0, result.err
    assert "guest 9999 on 192.168.0.2: mysql, clustermanager, rollsite, nodemanager, fate_flow, " \
           "fateboard" in result.out
    assert snapshot(scratch_root) == before


def test_import_refuses_a_file_that_is_not_a_var_file(tmp_path, fc):
    other = tmp_path / "project_prod.yml"
    other.write_text("- hosts: fate\n  roles: [base, mysql]\n")
    result = fc("import-ansible", other)
    assert result.rc == 2
    assert result.err.splitlines() == [
        f"fate-configure: error: {other}: expected one of the keys guest:, host: or exchange: "
        "(an ansible-nfate fate_guest / fate_host / fate_exchange file)"]
    inventory = tmp_path / "hosts"
    inventory.write_text("[fate]\n192.168.0.1\n")
    result = fc("import-ansible", inventory)
    assert result.rc == 2
    assert result.err.splitlines() == [
        f"{inventory}:2 not valid YAML: expected '<document start>', "
        "but found '<scalar>'"]


def test_import_output_never_overwrites(tmp_path, fc):
    target = tmp_path / "party.yaml"
    target.write_text("mine\n")
    result = fc("import-ansible", DATA / "fate_guest", "-o", target)
    assert result.rc == 2
    assert target.read_text() == "mine\n"


def test_shipped_example_and_schema_are_generated_and_current(fc):
    assert (REPO / "bundles/party.yaml.example").read_text() == render_example()
    assert (REPO / "bundles/party.schema.json").read_text() == json_schema()
    assert fc("schema").out == json_schema()


def test_example_is_valid_for_our_validator(tmp_path, scratch_root, fc):
    data, errors = validate_schema(load_text(render_example(), "party.yaml.example"))
    assert errors == []
    party = party_file(tmp_path, render_example())
    result = fc(party, "--root", scratch_root, "--host", "192.168.0.2", "--check")
    assert result.rc == 0, result.err


JSONSCHEMA = """
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
errors = sorted(e.message for e in jsonschema.Draft7Validator(
    schema, format_checker=jsonschema.FormatChecker()).iter_errors(yaml.safe_load(sys.stdin)))
print(json.dumps(errors))
"""


def editor_errors(text: str) -> list:
    """What an editor's JSON Schema validator (python3-jsonschema, Debian) says."""
    proc = subprocess.run(["/usr/bin/python3", "-c", JSONSCHEMA,
                           str(REPO / "bundles/party.schema.json")],
                          input=text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=True)
    return json.loads(proc.stdout)


def test_json_schema_works_in_an_independent_validator():
    assert editor_errors(render_example()) == []
    assert editor_errors((DATA / "guest-3hosts.yaml").read_text()) == []
    bad = (DATA / "guest-3hosts.yaml").read_text().replace("port: 9370\n", "port: 99999\n", 1)
    bad = bad.replace("ips: [10.0.1.2]\n  nodemanager", "ips: [10.0.1.256]\n  nodemanager")
    bad = bad.replace("egg: 6", "eggs: 6")
    errors = editor_errors(bad)
    assert len(errors) == 3
    assert any("99999" in e for e in errors)
    assert any("10.0.1.256" in e for e in errors)
    assert any("eggs" in e for e in errors)


FATE_EXCHANGE = """\
exchange:
    enable: True
    rollsite:
      ips:
      - 192.168.0.88
      port: 9370
      secure_port: 9371
      pool_size: 600
      max_memory:
      server_secure: False
      client_secure: False
    partys:
    - id: 10000
      rules:
      - name: default
        ip: 192.168.0.1
        port: 9370
        is_secure: False
    - id: 9999
      rules:
      - name: default
        ip: 192.168.0.2
        port: 9370
        is_secure: False
"""


def test_import_exchange_var_file(tmp_path, scratch_root, fc):
    """The fate_exchange layout of the 1.4.5 ansible doc (§4.4 of the reference)."""
    var_file = tmp_path / "fate_exchange"
    var_file.write_text(FATE_EXCHANGE)
    result = fc("import-ansible", var_file)
    assert result.rc == 0, result.err
    exchange = yaml.safe_load(result.out)["exchange"]
    assert [p["id"] for p in exchange["partys"]] == [10000, 9999]
    party = party_file(tmp_path, result.out)
    check = fc(party, "--root", scratch_root, "--host", "192.168.0.88", "--check")
    assert check.rc == 0, check.err
    assert "exchange on 192.168.0.88: rollsite" in check.out

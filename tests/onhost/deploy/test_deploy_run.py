# ruff: noqa: E501 - lines of Ansible output are kept whole
"""fate-deploy's commands end to end on the controller, without hosts: ``emit`` writes the
Ansible files for a bundle on disk, ``run`` drives a stand-in ``ansible-playbook`` (a
script that prints what Ansible's default callback prints) and reads back its output,
keeps what was deployed, and stops the services of a host that left the party.

On-host tests: they run on Python 3.6 too (tests/onhost/test_on_python36.py), the
interpreter fate-deploy has on a CentOS 7 control host; the e2e rollout runs it on the
Python of its Ansible 2.9 instead.
"""

import json
import stat
import textwrap
from pathlib import Path

import pytest
import yaml

import packager.onhost
from packager.onhost.deploy.cli import main
from tests.support.deploy import SEED_HOSTS, fake_bundle, seed_party
from tests.support.units import main_in_c_locale

A, B, C = "192.168.0.1", "192.168.0.2", "192.168.0.3"
#: The RPMs the seed party needs (each host's are checked against the bundle).
PACKAGES = ("fate-mysql", "fate-eggroll", "fate-flow", "fate-board", "fate-tools",
            "fate-python")

RUN_OK = """\
PLAY [pre-flight on every host (nothing is changed anywhere before it passes)] *****
TASK [fate_preflight : the findings, for the summary] ****
ok: [{a}] => {
    "fate_report": {
        "preflight": "ok: root through sudo from app\\nok: cpus 8"
    }
}
ok: [{b}] => {
    "fate_report": {
        "preflight": "ok: root through sudo from app\\nwarning: no swap\\nok: cpus 4"
    }
}
PLAY [install each host's packages from the bundle (install.sh)] ***
TASK [fate_install : install.sh] ***
changed: [{a}]
changed: [{b}]
PLAY [status of every host, the toy example on fate_flow's] ***
TASK [fate_report : the status and the toy result, for the summary] ****
ok: [{a}] => {
    "fate_report": {
        "status": {"services": [{"service": "fate-flow", "state": "active", "ports": [{"endpoint": "{a}:9380", "answering": true}], "healthy": true}]},
        "toy": "toy: success: it is 1999.9999999999998",
        "toy_stderr": ""
    }
}
PLAY RECAP *********
{a}                : ok=9    changed=1    unreachable=0    failed=0    skipped=0
{b}                : ok=7    changed=1    unreachable=0    failed=0    skipped=0
"""

RUN_FAILED = """\
PLAY [install each host's packages from the bundle (install.sh)] ***
TASK [fate_install : install.sh] ***
fatal: [{b}]: FAILED! => {"changed": false, "msg": "non-zero return code", "rc": 1, "stderr": "install.sh: error: no space left on /var/lib/fate-deploy", "stdout": ""}
PLAY RECAP *********
{a}                : ok=3    changed=0    unreachable=0    failed=0    skipped=0
{b}                : ok=2    changed=0    unreachable=0    failed=1    skipped=0
"""


#: A --check run as Ansible prints it in UTF-8 whatever the controller's locale: a diff of a
#: config file with a non-ASCII comment, a host failing with a German yum message.
RUN_CHECK_UTF8 = """\
PLAY [configure the MySQL host first and fetch its secrets] ***
TASK [fate_configure : the dry run, for the summary] ****
ok: [{a}] => {
    "fate_report": {
        "check": "--- conf/service_conf.yaml\\n+# caf\u00e9 \u2014 \u670d\u52a1\\n"
    }
}
PLAY [install each host's packages from the bundle (install.sh)] ***
TASK [fate_install : install.sh] ***
fatal: [{b}]: FAILED! => {"changed": false, "msg": "non-zero return code", "rc": 1, "stderr": "yum: Keine Berechtigung f\u00fcr /var/lib/rpm \u2013 abgebrochen", "stdout": ""}
PLAY RECAP *********
{a}                : ok=3    changed=0    unreachable=0    failed=0    skipped=0
{b}                : ok=2    changed=0    unreachable=0    failed=1    skipped=0
"""


def write_party(tmp_path: Path, nodemanagers=(B,)) -> Path:
    path = tmp_path / "party.yaml"
    path.write_text(yaml.safe_dump({"guest": seed_party(nodemanagers).body}))
    path.chmod(0o600)
    return path


def bundle_dir(tmp_path: Path) -> str:
    """A bundle with every RPM the seed party needs, one of them with a requirement."""
    packages = {name: ((), (), ()) for name in PACKAGES}
    packages["fate-eggroll"] = ((), ("fate-jdk",), ())
    packages["fate-jdk"] = ((), (), ())
    return fake_bundle(tmp_path / "b", packages)


@pytest.fixture
def playbook(tmp_path):
    """A stand-in ansible-playbook: prints ``out.txt`` (``{a}``/``{b}`` filled in), exits
    with ``rc``, and records its argv, cwd, umask and environment in ``calls.jsonl``."""
    home = tmp_path / "ansible"
    home.mkdir()
    script = home / "ansible-playbook"
    script.write_text(textwrap.dedent("""\
        #!/bin/sh
        here=$(dirname "$0")
        {{ printf '{{"argv": "%s", "cwd": "%s", "umask": "%s", "pythonpath": "%s", "config": "%s"}}\\n' \\
            "$*" "$(pwd)" "$(umask)" "${{PYTHONPATH-unset}}" "$ANSIBLE_CONFIG"; }} >> "$here/calls.jsonl"
        sed -e 's/{{a}}/{a}/g' -e 's/{{b}}/{b}/g' "$here/out.txt"
        exit "$(cat "$here/rc")"
        """).format(a=A, b=B))
    script.chmod(0o755)

    def answer(text: str, rc: int = 0) -> Path:
        (home / "out.txt").write_text(text)
        (home / "rc").write_text(str(rc))
        return script
    answer.calls = lambda: [json.loads(line) for line in
                            (home / "calls.jsonl").read_text().splitlines()]
    return answer


def run(tmp_path, party, script, *extra):
    return main(["run", str(party), "--bundle", str(tmp_path / "b"), "--workdir",
                 str(tmp_path / "work"), "--ansible-playbook", str(script), *extra])


def test_emit_writes_an_inventory_variables_playbook_and_roles(tmp_path, capsys):
    party = write_party(tmp_path)
    hosts = tmp_path / "hosts"
    hosts.write_text(SEED_HOSTS)
    bundle_dir(tmp_path)
    out = tmp_path / "o"
    assert main(["emit", str(party), "--bundle", str(tmp_path / "b"), "--inventory",
                 str(hosts), "-o", str(out)]) == 0, capsys.readouterr().err
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    inventory = (out / "hosts.ini").read_text()
    assert stat.S_IMODE((out / "hosts.ini").stat().st_mode) == 0o600
    assert f"[fate]\n{A}\n{B}\n" in inventory and f"[fate_mysql]\n{A}\n" in inventory
    assert "ansible_ssh_user=app" in inventory and "ansible_become=true" in inventory
    a = yaml.safe_load((out / "host_vars" / f"{A}.yml").read_text())
    b = yaml.safe_load((out / "host_vars" / f"{B}.yml").read_text())
    assert b["fate_packages"] == ["fate-eggroll", "fate-python", "fate-tools"]
    assert b["fate_stage_units"] == {"3": ["fate-nodemanager"]} and b["fate_ports"] == [4671]
    assert a["fate_run_toy"] is True and b["fate_run_toy"] is False
    import tarfile
    with tarfile.open(b["fate_bundle_tar"]) as handle:
        rpms = sorted(n.rsplit("/", 1)[1] for n in handle.getnames() if n.endswith(".rpm"))
    assert rpms == ["fate-eggroll.rpm", "fate-jdk.rpm", "fate-python.rpm", "fate-tools.rpm"]
    common = yaml.safe_load((out / "group_vars/all.yml").read_text())
    assert common["fate_party_file"] == str(party) and common["fate_nodemanagers"] == [B]
    site = yaml.safe_load((out / "site.yml").read_text())
    assert [p["hosts"] for p in site][:4] == ["fate", "fate", "fate_mysql", "fate:!fate_mysql"]
    assert len(list(out.glob("roles/*/tasks/main.yml"))) == 7
    assert "inventory = hosts.ini" in (out / "ansible.cfg").read_text()


def test_a_run_reports_every_host_and_keeps_what_it_deployed(tmp_path, playbook, capsys,
                                                             monkeypatch):
    party = write_party(tmp_path)
    bundle_dir(tmp_path)
    lib = Path(packager.onhost.__file__).resolve().parents[2]   # holds ``packager``
    monkeypatch.setenv("PYTHONPATH", f"{lib}:{lib}/vendor:/opt/other")
    assert run(tmp_path, party, playbook(RUN_OK), "--json") == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] and summary["changed"] == 2
    assert summary["hosts"][B]["preflight"] == ["warning: no swap"]
    assert summary["hosts"][A]["services"][0]["service"] == "fate-flow"
    assert summary["toy"] == {"host": A, "ok": "yes",
                              "line": "toy: success: it is 1999.9999999999998"}
    (call,) = playbook.calls()
    work = tmp_path / "work"
    assert call["argv"] == "site.yml" and call["cwd"] == str(work)
    assert call["umask"] == "0077" and call["config"] == str(work / "ansible.cfg")
    assert call["pythonpath"] == "/opt/other"   # EPEL's ansible imports its own jinja2
    deployed = json.loads((work / "deployed.json").read_text())
    assert deployed == {"hosts": {A: ["fate-mysql", "fate-clustermanager", "fate-rollsite",
                                      "fate-flow", "fate-board"], B: ["fate-nodemanager"]},
                        "cpus": {B: 4}}
    assert len(list((work / "logs").glob("deploy-*.log"))) == 1


def test_a_host_that_left_the_party_is_stopped_on_the_next_run(tmp_path, playbook, capsys):
    bundle_dir(tmp_path)
    assert run(tmp_path, write_party(tmp_path, (B,)), playbook(RUN_OK)) == 0
    capsys.readouterr()
    assert run(tmp_path, write_party(tmp_path, (C,)), playbook(RUN_OK)) == 0
    captured = capsys.readouterr()
    assert f"{B} left the party: its services fate-nodemanager will be stopped" in captured.err
    assert "(left the party)" in captured.out
    work = tmp_path / "work"
    site = yaml.safe_load((work / "site.yml").read_text())
    assert "fate_retired" in [p["hosts"] for p in site]
    assert yaml.safe_load((work / "host_vars" / f"{B}.yml").read_text()) == {
        "fate_address": B, "fate_retired_units": ["fate-nodemanager"]}
    assert sorted(json.loads((work / "deployed.json").read_text())["hosts"]) == [A, C]


def test_a_failed_host_is_named_with_its_step_and_nothing_is_recorded(tmp_path, playbook,
                                                                      capsys):
    bundle_dir(tmp_path)
    assert run(tmp_path, write_party(tmp_path), playbook(RUN_FAILED, rc=2)) == 1
    err = capsys.readouterr().err
    assert (f"FAILED: {B} failed at 'install each host's packages from the bundle "
            "(install.sh)' / 'fate_install : install.sh': install.sh: error: no space left "
            "on /var/lib/fate-deploy") in err
    assert not (tmp_path / "work" / "deployed.json").exists()


def test_check_and_limit_reach_ansible_and_a_stranger_to_limit_is_refused(tmp_path, playbook,
                                                                          capsys):
    bundle_dir(tmp_path)
    party = write_party(tmp_path)
    assert run(tmp_path, party, playbook(RUN_OK), "--check", "--limit", B) == 0
    assert playbook.calls()[-1]["argv"] == f"site.yml --check --diff --limit {B}"
    assert not (tmp_path / "work" / "deployed.json").exists()   # --check records nothing
    assert run(tmp_path, party, playbook(RUN_OK), "--limit", C) == 2
    assert f"--limit {C}: not an address of {party}" in capsys.readouterr().err
    assert len(playbook.calls()) == 1


def test_in_the_c_locale_what_ansible_prints_in_utf8_is_read_and_shown(tmp_path, playbook):
    """Ansible writes UTF-8 whatever the locale; on Python 3.6 in the C locale one byte above
    127 must not end the run in a traceback, with the hosts half done and no summary."""
    bundle_dir(tmp_path)
    party = write_party(tmp_path)
    proc = main_in_c_locale("packager.onhost.deploy.cli", [
        "run", party, "--bundle", tmp_path / "b", "--workdir", tmp_path / "work",
        "--ansible-playbook", playbook(RUN_CHECK_UTF8, rc=2), "--check"])
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert f"FAILED: {B} failed at 'install each host" in err and "Keine Berechtigung f" in err
    assert f"--- {A}: fate-configure --check --diff" in out
    assert "+# caf\u00e9 \u2014 \u670d\u52a1" in out  # as written, not escaped
    (log,) = (tmp_path / "work" / "logs").glob("deploy-*.log")
    assert "Berechtigung f\u00fcr /var/lib/rpm \u2013" in log.read_text(encoding="utf-8")


def test_a_missing_ansible_playbook_says_how_to_get_one(tmp_path, capsys):
    bundle_dir(tmp_path)
    assert run(tmp_path, write_party(tmp_path), tmp_path / "no-such-ansible-playbook") == 2
    assert "yum install ansible" in capsys.readouterr().err

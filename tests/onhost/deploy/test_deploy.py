# ruff: noqa: E501 - lines of Ansible output are kept whole
"""fate-deploy without hosts: the seed's inventory read as written, the plan from the
party and the catalogue, the written files, and Ansible's output read back.

On-host tests: they run on Python 3.6 too (tests/onhost/test_on_python36.py)."""

import textwrap
from pathlib import Path

import pytest
import yaml

from packager.onhost.deploy.cli import main
from packager.onhost.deploy.emit import plays
from packager.onhost.deploy.inventory import (
    Connection,
    InventoryError,
    connection_vars,
    read_inventory,
)
from packager.onhost.deploy.plan import make_plan
from packager.onhost.deploy.run import OutputReader
from tests.support.deploy import SEED_HOSTS, fake_bundle, seed_party
from tests.support.units import REPO, c_locale_env


def test_the_seeds_inventory_is_taken_as_written(tmp_path):
    path = tmp_path / "hosts"
    path.write_text(SEED_HOSTS)
    inv = read_inventory(str(path))
    assert inv.party_hosts == ["192.168.0.1", "192.168.0.2"]
    assert inv.controllers == ["192.168.0.1"]
    out = connection_vars(Connection(), inv)
    assert out["ansible_ssh_user"] == "app" and out["ansible_ssh_port"] == "22"
    assert out["ansible_become_method"] == "sudo" and out["ansible_become_pass"] == ""
    assert out["ansible_become"] == "true"          # app is not root: sudo
    flags = connection_vars(Connection(user="root", port=2222, become=False), inv)
    assert "ansible_ssh_user" not in flags and flags["ansible_user"] == "root"
    assert flags["ansible_port"] == "2222" and flags["ansible_become"] == "false"


def test_a_broken_inventory_line_is_named(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("[all:vars]\nansible_ssh_user app\n")
    with pytest.raises(InventoryError, match=r"hosts:2: expected key=value"):
        read_inventory(str(path))


def test_each_host_gets_only_its_services_packages_and_ports():
    plan = make_plan(seed_party())
    a, b = plan.hosts
    assert a.address == "192.168.0.1" and b.address == "192.168.0.2"
    assert b.units == ["fate-nodemanager"]
    assert b.packages == ["fate-eggroll", "fate-python", "fate-tools"]
    assert "fate-mysql" in a.packages and "fate-mysql" not in b.packages
    assert sorted(a.ports) == [3306, 4670, 8080, 9360, 9370, 9380] and b.ports == [4671]
    assert plan.mysql_host == plan.flow_host == "192.168.0.1"


def test_start_stages_follow_the_issues_order_across_hosts():
    """MySQL -> clustermanager, rollsite -> nodemanagers -> fate_flow -> fateboard."""
    plan = make_plan(seed_party(("192.168.0.2", "192.168.0.3")))
    order = [(s.number, s.services, s.hosts) for s in plan.stages]
    assert order == [
        (1, ["mysql"], ["192.168.0.1"]),
        (2, ["clustermanager", "rollsite"], ["192.168.0.1"]),
        (3, ["nodemanager"], ["192.168.0.2", "192.168.0.3"]),
        (4, ["fate_flow"], ["192.168.0.1"]),
        (5, ["fateboard"], ["192.168.0.1"])]


def test_site_yml_configures_the_mysql_host_before_the_others():
    names = [p["name"] for p in plays(make_plan(seed_party()), retired=False)]
    assert names[0].startswith("pre-flight") and names[1].startswith("install")
    assert names[2].startswith("configure the MySQL host first")
    assert names[3].startswith("place the secrets and configure the other hosts")
    assert [n for n in names if n.startswith("start stage")] == [
        "start stage 1: mysql", "start stage 2: clustermanager, rollsite",
        "start stage 3: nodemanager", "start stage 4: fate_flow", "start stage 5: fateboard"]


def test_the_pre_flight_play_sees_every_host_and_the_others_stop_at_a_failure():
    out = plays(make_plan(seed_party()), retired=False)
    assert "any_errors_fatal" not in out[0]
    assert all(p.get("any_errors_fatal") for p in out[1:-1])


def test_failures_and_the_recap_are_read_from_the_default_output():
    reader = OutputReader(lambda _: None)
    for line in textwrap.dedent("""\
        PLAY [pre-flight on every host (nothing is changed anywhere before it passes)] ***
        TASK [fate_preflight : pre-flight checks (reachability, sudo, ports)] ****
        fatal: [10.0.0.9]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.0.0.9 port 22: No route to host", "unreachable": true}
        ok: [10.0.0.1]
        PLAY [install each host's packages from the bundle (install.sh)] ***
        TASK [fate_install : copy the bundle] ***
        changed: [10.0.0.1]
        TASK [fate_start : start stage 2] ***
        failed: [10.0.0.3] (item=fate-nodemanager) => {"ansible_loop_var": "item", "changed": false, "item": "fate-nodemanager", "msg": "Unable to start service fate-nodemanager.service: Job for fate-nodemanager.service failed because a timeout was exceeded."}
        TASK [fate_install : install.sh fate-tools] ***
        fatal: [10.0.0.1]: FAILED! => {"changed": false, "cmd": ["install.sh"], "msg": "non-zero return code", "rc": 1, "stderr": "install.sh: error: files do not match SHA256SUMS", "stdout": ""}
        PLAY RECAP *********
        10.0.0.1                   : ok=3    changed=1    unreachable=0    failed=1    skipped=0
        10.0.0.9                   : ok=0    changed=0    unreachable=1    failed=0    skipped=0
        """).splitlines():
        reader.feed(line)
    gone = reader.failures["10.0.0.9"]
    assert gone.unreachable and "No route to host" in gone.message
    assert gone.play.startswith("pre-flight")
    broke = reader.failures["10.0.0.1"]
    assert broke.task == "fate_install : install.sh fate-tools"
    assert broke.message == "install.sh: error: files do not match SHA256SUMS"
    assert reader.changed == {"10.0.0.1": ["fate_install : copy the bundle"]}
    loop = reader.failures["10.0.0.3"]
    assert loop.task == "fate_start : start stage 2" and not loop.unreachable
    assert loop.message.startswith("Unable to start service fate-nodemanager.service")
    assert reader.recap["10.0.0.1"].changed == 1 and reader.recap["10.0.0.9"].unreachable == 1


def test_a_bad_party_is_one_line_per_problem_and_exit_2(tmp_path, capsys):
    party = tmp_path / "party.yaml"
    party.write_text("guest:\n  partyid: 9999\n  rollsite:\n    ips: [192.168.0.1]\n"
                     "    port: 99999\n")
    assert main([str(party), "--bundle", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{party}:5 guest.rollsite.port" in err


def test_emit_refuses_a_bundle_that_does_not_match_its_sums(tmp_path, capsys):
    party = tmp_path / "party.yaml"
    party.write_text(yaml.safe_dump({"guest": seed_party().body}))
    bundle = tmp_path / "fate-bundle-1.4.5-el7.x86_64"
    bundle.mkdir()
    (bundle / "install.sh").write_text("#!/bin/bash\n")
    (bundle / "SHA256SUMS").write_text("0" * 64 + "  install.sh\n")
    assert main(["emit", str(party), "--bundle", str(tmp_path), "-o", str(tmp_path / "o")]) == 2
    assert "files do not match SHA256SUMS" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_failure_named_is_the_host_that_failed_not_those_stopped_by_it():
    from packager.onhost.deploy.report import first_failure

    def row(task, unreachable=False):
        return {"failed": {"play": "pre-flight on every host", "task": task,
                           "message": "m", "unreachable": unreachable}}
    summary = {"hosts": {
        "10.0.0.1": row("fate_preflight : every host of the party passed the pre-flight"),
        "10.0.0.9": row("fate_preflight : pre-flight checks", unreachable=True)}}
    assert first_failure(summary) == ("10.0.0.9 unreachable at 'pre-flight on every host' / "
                                      "'fate_preflight : pre-flight checks': m")


def test_a_host_gets_every_in_bundle_provider_of_its_closure_and_nothing_else(tmp_path):
    from packager.onhost.deploy import bundle

    path = fake_bundle(tmp_path, {
        "fate-eggroll": ((), ("fate-common", "fate-jdk", "/bin/sh", "rpmlib(X)"), ()),
        "fate-common": ((), ("libjava.so()(64bit)",), ()),
        "fate-jdk": (("libjava.so()(64bit)",), (), ()),
        "other-jdk": (("libjava.so()(64bit)",), ("zlib",), ()),   # a second provider
        "zlib": ((), (), ()),
        "bash": ((), (), ("/bin/sh",)),                            # a file requirement
        "fate-mysql": ((), ("fate-common", "ncurses"), ()),
        "ncurses": ((), (), ())})
    found = bundle.load(path)
    names = [p.name for p in found.closure(["fate-eggroll"])]
    assert sorted(names) == ["bash", "fate-common", "fate-eggroll", "fate-jdk", "other-jdk",
                             "zlib"]
    files = found.host_files(["fate-eggroll"])
    assert "rpms/fate-mysql.rpm" not in files and "rpms/ncurses.rpm" not in files
    assert {"SHA256SUMS", "install.sh", "packages.txt", "repodata/repomd.xml",
            "repodata/primary.xml.gz", "rpms/bash.rpm", "rpms/other-jdk.rpm"} <= set(files)
    tar = bundle.tar_for_host(found, files, str(tmp_path / "out"))
    import tarfile
    with tarfile.open(tar) as handle:
        members = handle.getnames()
    top = "fate-bundle-1.4.5-el7.x86_64"
    assert members == [top + ".files"] + [f"{top}/{f}" for f in files]
    assert bundle.tar_for_host(found, files, str(tmp_path / "out")) == tar   # reused


@pytest.mark.parametrize("hostvars,known,expect", [
    ({"b": {"fate_cpus": 16}, "c": {"fate_cpus": 24}}, {}, "--cores-per-node 16"),  # smallest
    ({"b": {}, "c": {"fate_cpus": 24}}, {"b": 8}, "--cores-per-node 8"),   # b outside --limit
    ({"b": {"fate_cpus": 0}, "c": {}}, {}, ""),                            # nothing known
])
def test_cores_per_node_is_the_nodemanager_hosts_smallest_cpu_count(hostvars, known, expect):
    """The flag every host's fate-configure gets, as Ansible templates it (Jinja2, with
    Ansible's ``default``/``int``/``min`` filters as Jinja2's own)."""
    import jinja2

    from packager.onhost.deploy.emit import CORES_FLAG

    text = jinja2.Environment(undefined=jinja2.Undefined).from_string(CORES_FLAG).render(
        fate_nodemanagers=["b", "c"], hostvars=hostvars, fate_known_cpus=known)
    assert text == expect


def test_every_role_file_is_yaml_ansible_reads():
    """A task line YAML cannot read stops every run (ansible-playbook checks them all)."""
    from packager.onhost.deploy.emit import ROLES

    files = sorted(Path(ROLES).glob("*/tasks/main.yml"))
    assert len(files) == 7
    for path in files:
        tasks = yaml.safe_load(path.read_text())
        assert isinstance(tasks, list) and all("name" in t for t in tasks), path


def test_what_the_roles_print_for_the_summary_is_read_back():
    """debug var=fate_report as the default callback prints it (2.9 and ansible-core):
    the status may come parsed (Ansible turns JSON-looking strings into data)."""
    from packager.onhost.deploy import report
    from packager.onhost.deploy.run import RunResult

    reader = OutputReader(lambda _: None)
    for line in textwrap.dedent("""\
        TASK [fate_preflight : the findings, for the summary] ****
        ok: [10.0.0.2] => {
            "fate_report": {
                "preflight": "ok: root through sudo from app\\nwarning: no swap\\nok: cpus 3"
            }
        }
        TASK [fate_report : the status and the toy result, for the summary] ****
        ok: [10.0.0.1] => {
            "fate_report": {
                "status": {"services": [{"service": "fate-flow", "state": "active", "ports": [{"endpoint": "10.0.0.1:9380", "answering": true}], "healthy": true}]},
                "toy": "toy: success: it is 1999.9999999999998",
                "toy_stderr": ""
            }
        }
        ok: [10.0.0.2] => {
            "changed": false,
            "msg": "not ours"
        }
        changed: [10.0.0.2]
        """).splitlines():
        reader.feed(line)
    assert reader.changed == {"10.0.0.2": ["fate_report : the status and the toy result, for the summary"]}
    result = RunResult(0, {}, {}, {}, "log", reader.reports)
    assert report.preflight_findings(result) == {"10.0.0.2": ["warning: no swap"],
                                                  "10.0.0.1": []}
    assert report.preflight_cpus(result) == {"10.0.0.2": 3}
    assert report.toy_result(result, "10.0.0.1")["ok"] == "yes"
    assert '"service": "fate-flow"' in report.host_report(result, "10.0.0.1")["status"]



def test_a_signed_bundle_is_checked_with_its_own_key(tmp_path):
    """SHA256SUMS.asc against the bundle's RPM-GPG-KEY-fate, with gpg as the controller
    has it, also in the C locale with a user id gpg reports in UTF-8; a signature by another
    key is refused before any host is touched."""
    import hashlib
    import shutil
    import subprocess
    import sys

    from packager.onhost.deploy import bundle

    gpg = shutil.which("gpg") or shutil.which("gpg2")
    if gpg is None:
        pytest.skip("gpg is not installed here (scripts/apt-packages.txt: gnupg)")
    path = Path(fake_bundle(tmp_path, {"fate-tools": ((), (), ())}))
    quiet = {"check": True, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}

    def new_key(name: str, uid: str) -> Path:
        home = tmp_path / name
        home.mkdir(mode=0o700)
        subprocess.run([gpg, "--homedir", str(home), "--batch", "--passphrase", "",
                        "--quick-gen-key", uid, "ed25519", "sign", "never"], **quiet)
        return home

    def sign(home: Path) -> None:
        subprocess.run([gpg, "--homedir", str(home), "--batch", "--yes", "--armor",
                        "--detach-sign", "-o", str(path / "SHA256SUMS.asc"),
                        str(path / "SHA256SUMS")], **quiet)

    def load_in_the_c_locale() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-s", "-c", "import sys; from packager.onhost.deploy import "
             "bundle; print(' '.join(bundle.load(sys.argv[1]).listed))", str(path)],
            cwd=str(REPO), env=c_locale_env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=60)

    ours = new_key("ours", "\u00c9quipe FATE \u670d\u52a1 <ours@fate-pkg.invalid>")
    key = subprocess.run([gpg, "--homedir", str(ours), "--armor", "--export"], **quiet).stdout
    (path / bundle.KEY_FILE).write_bytes(key)
    with open(str(path / "SHA256SUMS"), "a") as sums:
        sums.write(f"{hashlib.sha256(key).hexdigest()}  {bundle.KEY_FILE}\n")
    sign(ours)
    assert bundle.KEY_FILE in bundle.load(str(path)).listed
    proc = load_in_the_c_locale()
    assert proc.returncode == 0 and bundle.KEY_FILE in proc.stdout.decode(), proc.stderr
    sign(new_key("other", "other <other@fate-pkg.invalid>"))
    with pytest.raises(bundle.BundleError, match="not a good signature by RPM-GPG-KEY-fate"):
        bundle.load(str(path))

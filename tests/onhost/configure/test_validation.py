"""One mistake per party YAML: exactly one error line naming file:line, key path and fix;
exit 2; the scratch root left byte-identical (nothing is written before validation)."""

import fcntl
import socket
from pathlib import Path

import pytest

from tests.support.configure import DATA, party_file, snapshot

BASE = (DATA / "guest-3hosts.yaml").read_text()
P = "party.yaml"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


PORT = closed_port()

# (id, party text, --host, the one expected stderr line)
CASES = [
    ("port-range", edit("    port: 9370\n    default", "    port: 99999\n    default"), None,
     f"{P}:9 guest.rollsite.port: 99999 is not a port (1-65535)"),
    ("unknown-key", edit("    ips: [10.0.1.1]", "    ipz: [10.0.1.1]"), None,
     f"{P}:8 guest.rollsite.ipz: unknown key; did you mean `ips`?"),
    ("partyid-word", edit("partyid: 9999", "partyid: abc"), None,
     f"{P}:5 guest.partyid: the string 'abc' is not an integer"),
    ("partyid-quoted", edit("partyid: 9999", 'partyid: "9999"'), None,
     f"{P}:5 guest.partyid: the string '9999' is not an integer; write a plain number "
     "(no quotes, no leading zero)"),
    ("partyid-missing", edit("  partyid: 9999\n", ""), None,
     f"{P}:4 guest.partyid: missing; add it (The party id (integer))"),
    ("bad-ip", edit("ips: [10.0.1.2]\n  nodemanager", "ips: [10.0.1.256]\n  nodemanager"), None,
     f"{P}:16 guest.clustermanager.ips[0]: '10.0.1.256' is not an IPv4 address "
     "(like 192.168.0.2)"),
    ("one-host-only", edit("ips: [10.0.1.2]\n  nodemanager", "ips: [10.0.1.2, 10.0.1.3]\n"
                                                             "  nodemanager"), None,
     f"{P}:16 guest.clustermanager.ips: 2 addresses, but clustermanager runs on exactly one "
     "host; keep one"),
    ("port-twice-on-host", edit("  fateboard:\n    ips: [10.0.1.2]\n",
                                "  fateboard:\n    ips: [10.0.1.2]\n    port: 9380\n"), None,
     f"{P}:25 guest.fateboard.port: port 9380 on 10.0.1.2 is already used by "
     "guest.fate_flow.httpPort (line 21); choose another port"),
    ("route-default-mismatch", edit("{name: default, ip: 10.0.1.1", "{name: default, ip: 10.0.1.9"),
     None, f"{P}:13 guest.rollsite.rules[0]: default 10.0.1.9:9370 does not match rollsite "
           "ips[0]/port 10.0.1.1:9370; fix the route or the service"),
    ("route-fateflow-mismatch", edit("ip: 10.0.1.2, port: 9360}", "ip: 10.0.1.2, port: 9380}"),
     None, f"{P}:14 guest.rollsite.rules[1]: fateflow 10.0.1.2:9380 does not match fate_flow "
           "ips[0]/grpcPort 10.0.1.2:9360; fix the route or the service"),
    ("route-no-fateflow", edit("      - {name: fateflow, ip: 10.0.1.2, port: 9360}\n", ""), None,
     f"{P}:12 guest.rollsite.rules: no `fateflow` entry; add `- {{name: fateflow, ip: 10.0.1.2, "
     "port: 9360}` (fate_flow's gRPC port)"),
    ("route-no-default", edit("      - {name: default, ip: 10.0.1.1, port: 9370}\n", ""), None,
     f"{P}:12 guest.rollsite.rules: no `default` entry; add `- {{name: default, ip: 10.0.1.1, "
     "port: 9370}` (this party's rollsite)"),
    ("route-bad-name", edit("{name: default, ip: 10.0.2.1", "{name: peer, ip: 10.0.2.1"), None,
     f"{P}:11 guest.rollsite.default_rules[0].name: 'peer' is not a route name here; use "
     "default"),
    ("secure-route-no-client", edit("port: 9370, is_secure: false", "port: 9371, is_secure: true"),
     None, f"{P}:11 guest.rollsite.default_rules[0].is_secure: true, but client_secure is false: "
           "rollsite would not use TLS; set client_secure: true (and provide the client "
           "certificates)"),
    ("secure-route-plain-port", edit("    port: 9370\n    default",
                                     "    port: 9370\n    client_secure: true\n    default")
     .replace("port: 9370, is_secure: false", "port: 9370, is_secure: true"), None,
     f"{P}:12 guest.rollsite.default_rules[0].port: 9370 is a plain rollsite port but is_secure "
     "is true; use the peer's secure_port (9371)"),
    ("secure-port-equals-port", edit("    port: 9370\n    default",
                                     "    port: 9370\n    server_secure: true\n"
                                     "    secure_port: 9370\n    default"), None,
     f"{P}:11 guest.rollsite.secure_port: equals port 9370; the TLS server needs its own port "
     "(9371)"),
    ("enable-not-bool", edit("enable: true", "enable: yes please"), None,
     f"{P}:7 guest.rollsite.enable: the string 'yes please' is not true or false"),
    ("duplicate-key", BASE + "  eggroll:\n    egg: 2\n", None,
     f"{P}:29 guest.eggroll: duplicate key (first at line 19); keep one"),
    ("yaml-syntax", edit("ips: [10.0.1.1]", "ips: [10.0.1.1"), None,
     f"{P}:9 not valid YAML: expected ',' or ']', but got ':'"),
    ("two-parties", BASE + "host:\n  partyid: 10000\n", None,
     f"{P}:4 (top level): one party per file: found guest, host; split them into separate files"),
    ("unknown-role", edit("guest:", "gust:"), None,
     f"{P}:4 gust: unknown key; did you mean `guest`?"),
    ("egg-zero", edit("egg: 6", "egg: 0"), None,
     f"{P}:20 guest.eggroll.egg: 0 is below the minimum 1; use 1 or more"),
    ("dbname-dash", edit("    egg: 6\n", "    egg: 6\n    dbname: eggroll-meta\n"), None,
     f"{P}:21 guest.eggroll.dbname: 'eggroll-meta' is not a plain name: use letters, digits and _ "
     "(at most 64)"),
    ("password-quote", edit("dbpasswd: Sample-Fate-Pw-1", "dbpasswd: it's"), None,
     f"{P}:27 guest.mysql.dbpasswd: contains a quote, backslash or control character, which the "
     "rendered config files cannot carry; choose another"),
    ("type-enum", edit("  fate_flow:\n", "  fate_flow:\n    type: upgrade\n"), None,
     f"{P}:22 guest.fate_flow.type: the string 'upgrade' is not one of: install, update"),
    ("ips-missing", edit("  fateboard:\n    ips: [10.0.1.2]", "  fateboard:\n    enable: true"),
     None, f"{P}:23 guest.fateboard.ips: missing; list the address of the host running fateboard "
           "(or set enable: false)"),
    ("needs-nodemanager", edit("  nodemanager:\n    ips: [10.0.1.2, 10.0.1.3]\n", ""), "10.0.1.2",
     f"{P}:4 guest.nodemanager: clustermanager needs nodemanager, which this party does not "
     "deploy; add the `nodemanager` section with its ips"),
    ("board-db-differs", edit("  fateboard:\n    ips: [10.0.1.2]\n",
                              "  fateboard:\n    ips: [10.0.1.2]\n    dbname: board\n"), None,
     f"{P}:25 guest.fateboard.dbname: 'board' differs from fate_flow.dbname 'fate_flow'; "
     "fateboard reads fate_flow's tables, use the same name"),
    ("ip-twice", edit("ips: [10.0.1.2, 10.0.1.3]", "ips: [10.0.1.2, 10.0.1.2]"), "10.0.1.2",
     f"{P}:18 guest.nodemanager.ips[1]: 10.0.1.2 is listed twice; remove one"),
    ("ips-not-list", edit("  fateboard:\n    ips: [10.0.1.2]", "  fateboard:\n    ips: 10.0.1.2"),
     None, f"{P}:24 guest.fateboard.ips: the string '10.0.1.2' is not a list"),
    ("zk-without-servers", BASE + "  zk:\n    enable: true\n", None,
     f"{P}:29 guest.zk.lists: zk is enabled but lists no server; add `- {{ip: ..., port: 2181}}` "
     "or set enable: false"),
    ("empty-file", "# nothing yet\n", None,
     f"{P}:1 the file is empty: expected a party such as `guest:`"),
    ("top-level-list", "- guest\n- host\n", None,
     f"{P}:1 (top level): expected a mapping with one party key (exchange, guest, host)"),
    ("two-documents", BASE + "---\nhost: {partyid: 10000}\n", None,
     f"{P}:29 not valid YAML: but found another document"),
    ("host-unknown", BASE, "10.0.1.99",
     "fate-configure: error: party.yaml: --host 10.0.1.99 is not an address of guest 9999 "
     "(known: 10.0.1.1, 10.0.1.2, 10.0.1.3)"),
]


# What the host lacks for its part of a valid party: a pre-flight error, exit 1, nothing
# touched; `fate-configure check` on another machine accepts the same file (exit 0).
PREFLIGHT_CASES = [
    ("server-secure-no-certs", edit("    port: 9370\n    default",
                                    "    port: 9370\n    server_secure: true\n    default"),
     "10.0.1.1",
     f"{P}:10 guest.rollsite.server_secure: true, but /data/projects/data/fate/keys/guest-ca.pem, "
     "/data/projects/data/fate/keys/guest-server.pem, /data/projects/data/fate/keys/"
     "guest-server.key missing or unreadable; put the server certificate files there or set "
     "server_secure: false"),
    ("external-mysql-down", edit("  mysql:\n    ips: [10.0.1.3]\n",
                                 f"  mysql:\n    enable: false\n    ips: [127.0.0.1]\n"
                                 f"    port: {PORT}\n"), "10.0.1.2",
     f"{P}:26 guest.mysql.enable: false (external MySQL), but 127.0.0.1:{PORT} does not answer "
     "(Connection refused); start that server or set enable: true"),
]


@pytest.mark.parametrize("text,host,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_mistake_one_line_exit_2_nothing_touched(tmp_path, monkeypatch, scratch_root, fc,
                                                     text, host, expected):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, text)
    before = snapshot(scratch_root)
    result = fc(P, "--root", scratch_root, "--host", host or "10.0.1.3")
    assert result.err.splitlines() == [expected]
    assert result.rc == 2
    assert snapshot(scratch_root) == before


@pytest.mark.parametrize("text,host,expected", [c[1:] for c in PREFLIGHT_CASES],
                         ids=[c[0] for c in PREFLIGHT_CASES])
def test_host_preflight_error_exit_1_nothing_touched(tmp_path, monkeypatch, scratch_root, fc,
                                                     text, host, expected):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, text)
    before = snapshot(scratch_root)
    for command in ((P,), ("check", P)):
        result = fc(*command, "--root", scratch_root, "--host", host)
        assert result.err.splitlines() == [f"fate-configure: error: pre-flight: {expected}"]
        assert result.rc == 1
    assert snapshot(scratch_root) == before
    elsewhere = fc("check", P, "--host", host)  # this machine is not that host
    assert elsewhere.rc == 0, elsewhere.err
    assert "pre-flight skipped: " + host in elsewhere.out


def test_at_least_25_distinct_mistakes():
    cases = CASES + PREFLIGHT_CASES
    assert len({c[0] for c in cases}) == len(cases) >= 25


def test_all_errors_are_reported_at_once(tmp_path, monkeypatch, scratch_root, fc):
    monkeypatch.chdir(tmp_path)
    text = edit("partyid: 9999", "partyid: abc").replace("egg: 6", "egg: 0").replace(
        "    ips: [10.0.1.1]", "    ipz: [10.0.1.1]")
    party_file(tmp_path, text)
    result = fc(P, "--root", scratch_root, "--host", "10.0.1.3")
    assert result.rc == 2
    assert [line.split(" ")[0] for line in result.err.splitlines()] == [
        f"{P}:5", f"{P}:8", f"{P}:20"]


def test_check_command_validates_the_same_way(tmp_path, monkeypatch, scratch_root, fc):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, edit("    port: 9370\n    default", "    port: 99999\n    default"))
    result = fc("check", P, "--root", scratch_root, "--host", "10.0.1.3")
    assert result.rc == 2
    assert result.err.splitlines() == [f"{P}:9 guest.rollsite.port: 99999 is not a port (1-65535)"]


def test_host_without_any_service_is_an_error(tmp_path, monkeypatch, scratch_root, fc):
    """Without --host the host's own addresses are matched; this build host has none of them."""
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE)
    before = snapshot(scratch_root)
    result = fc(P, "--root", scratch_root)
    assert result.rc == 2
    assert "runs nothing of guest 9999" in result.err
    assert "pass --host IP" in result.err
    assert snapshot(scratch_root) == before


def test_missing_service_account_is_an_error_before_any_write(tmp_path, monkeypatch,
                                                               scratch_root, fc):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE)
    (scratch_root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    before = snapshot(scratch_root)
    result = fc(P, "--root", scratch_root, "--host", "10.0.1.2", "--account", "fateuser:fategrp")
    assert result.rc == 1  # the host lacks it: pre-flight
    assert result.err.splitlines() == [
        "fate-configure: error: pre-flight: account fateuser:fategrp does not exist on this "
        "host; install fate-common first (its %pre creates app:apps) or pass --account "
        "USER:GROUP"]
    assert snapshot(scratch_root) == before


def test_missing_unit_for_a_wanted_service(tmp_path, monkeypatch, scratch_root, fc):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE)
    (scratch_root / "usr/lib/systemd/system/fate-board.service").unlink()
    before = snapshot(scratch_root)
    result = fc(P, "--root", scratch_root, "--host", "10.0.1.2")
    assert result.rc == 1  # a valid party; this host lacks an RPM: pre-flight
    assert "fate-configure: error: pre-flight: fate-board.service not installed" in result.err
    assert snapshot(scratch_root) == before


def test_other_hosts_need_the_mysql_hosts_password(tmp_path: Path, monkeypatch, scratch_root, fc):
    """Without a password in the YAML, only the MySQL host may generate one."""
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, edit("    dbpasswd: Sample-Fate-Pw-1\n", ""))
    before = snapshot(scratch_root)
    result = fc(P, "--root", scratch_root, "--host", "10.0.1.2")
    assert result.rc == 2
    assert result.err.splitlines() == [
        f"{P}:25 guest.mysql.dbpasswd: not set and /etc/fate/secrets.yaml holds no mysql_fate: "
        "copy /etc/fate/secrets.yaml from 10.0.1.3 or set it in the party YAML"]
    assert snapshot(scratch_root) == before


EXCHANGE = """\
exchange:
  rollsite:
    ips: [10.0.9.1]
  partys:
    - id: 9999
      rules: [{name: default, ip: 10.0.1.1, port: 9370}]
    - id: 10000
      rules: [{name: default, ip: 10.0.2.1, port: 9370}]
"""

EXCHANGE_CASES = [
    ("party-twice", EXCHANGE.replace("id: 10000", "id: 9999"),
     f"{P}:7 exchange.partys[1].id: party 9999 is listed twice (also partys[0]); keep "
     "one entry per party"),
    ("no-default-route", EXCHANGE.replace("rules: [{name: default, ip: 10.0.2.1, port: 9370}]",
                                          "rules: []"),
     f"{P}:8 exchange.partys[1].rules: no `default` entry; add the route to party 10000's "
     "rollsite"),
    ("id-missing", EXCHANGE.replace("    - id: 10000\n      rules", "    - rules"),
     f"{P}:7 exchange.partys[1].id: missing; add it"),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in EXCHANGE_CASES],
                         ids=[c[0] for c in EXCHANGE_CASES])
def test_exchange_mistakes(tmp_path, monkeypatch, scratch_root, fc, text, expected):
    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, text)
    before = snapshot(scratch_root)
    result = fc(P, "--root", scratch_root, "--host", "10.0.9.1")
    assert (result.rc, result.err.splitlines()) == (2, [expected])
    assert snapshot(scratch_root) == before


def test_concurrent_run_is_refused_before_any_write(tmp_path, monkeypatch, scratch_root, fc):
    """While another fate-configure holds the lock, a run refuses before writing anything."""

    monkeypatch.chdir(tmp_path)
    party_file(tmp_path, BASE)
    lock = scratch_root / "etc/fate/.fate-configure.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        before = snapshot(scratch_root)
        result = fc(P, "--root", scratch_root, "--host", "10.0.1.2")
        assert result.rc == 2
        assert "another fate-configure is running on this host" in result.err
        assert snapshot(scratch_root) == before
    assert fc(P, "--root", scratch_root, "--host", "10.0.1.2").rc == 0

"""Pre-flight checks (the seed's check role) and the host facts they read."""

import os
import socket

from packager.onhost.configure import facts
from packager.onhost.configure.loader import load_text
from packager.onhost.configure.model import Party
from packager.onhost.configure.paths import Root
from packager.onhost.configure.preflight import run_checks
from packager.onhost.configure.schema import validate_schema
from tests.support.configure import DATA


def party() -> Party:
    data, errors = validate_schema(load_text((DATA / "guest-3hosts.yaml").read_text(), "p.yaml"))
    assert errors == []
    return Party(data)


def test_seed_warnings_on_a_live_host():
    found = run_checks(party(), ["rollsite"], Root("/"), "systemd", first_run=True,
                       root_password_given=False, systemd=False,
                       listening=lambda: {9370, 22},
                       processes=lambda: ["/usr/bin/java -cp lib/* com.webank.eggroll.rollsite."
                                          "Proxy -c conf/eggroll.properties"],
                       swap=lambda: 0, limits=lambda user: (65535, 65535),
                       owners=lambda: {9370: "pid 4242 (nc)"}, hostname=lambda: None)
    messages = {f.message.split(":")[0]: f for f in found}
    assert messages["swap is 0"].level == "warning"
    ports = [f for f in found if f.message.startswith("these ports: 9370 (pid 4242 (nc)) have "
                                                       "been used")]
    assert len(ports) == 1 and ports[0].level == "warning"
    leftovers = [f for f in found if f.message.startswith("key fate process exists")]
    assert len(leftovers) == 1 and leftovers[0].level == "warning"
    assert not [f for f in found if f.level == "error"]


def test_no_warnings_when_all_is_well():
    found = run_checks(party(), ["rollsite"], Root("/"), "systemd", first_run=False,
                       root_password_given=False, systemd=False, listening=lambda: {22},
                       processes=lambda: ["/usr/bin/java -jar /data/projects/fate/x.jar"],
                       swap=lambda: 128 << 20, limits=lambda user: (65535, 65535),
                       owners=dict, hostname=lambda: None)
    assert found == []


def _live(**kw):
    base = dict(listening=lambda: set(), processes=list, swap=lambda: 128 << 20,
                limits=lambda user: (65535, 65535), owners=dict, hostname=lambda: None)
    base.update(kw)
    return run_checks(party(), ["rollsite"], Root("/"), "systemd", first_run=False,
                      root_password_given=False, systemd=False, account="app", **base)


def test_field_checks_are_warnings_naming_what_they_found():
    asked = []
    found = _live(swap=lambda: 8 << 20, hostname=lambda: "fate-9: Name or service not known",
                  limits=lambda user: asked.append(user) or (1024, 4096))
    text = [f.message for f in found]
    assert all(f.level == "warning" for f in found)
    assert any(m.startswith("swap is 8.0 GiB, below the 128 GiB") for m in text), text
    assert any("does not resolve (fate-9: Name or service not known)" in m and "FATE#768" in m
               for m in text), text
    assert asked == ["app"]  # the service account's limits, not this process's
    assert any(m.startswith("open files (ulimit -n) of app is 1024") for m in text), text
    assert any(m.startswith("max user processes (ulimit -u) of app is 4096") for m in text)


def test_port_owner_is_read_from_proc():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        assert facts.port_owners()[port] == f"pid {os.getpid()} (" + \
            open(f"/proc/{os.getpid()}/comm").read().strip() + ")"


def test_account_limits_come_from_a_login_of_the_account():
    limits = facts.account_limits("root")
    assert limits is not None and all(isinstance(v, int) and v > 0 for v in limits)
    assert facts.account_limits("no-such-user-fate") is None


def test_listening_ports_sees_a_real_listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        assert port in facts.listening_ports()
    assert port not in facts.listening_ports()


def test_swap_and_processes_from_proc(tmp_path):
    (tmp_path / "swaps").write_text("Filename Type Size Used Priority\n"
                                    "/swapfile file 2097148 0 -2\n/dev/sdb2 partition 1024 0 -3\n")
    assert facts.swap_kib(str(tmp_path)) == 2097148 + 1024
    assert facts.swap_kib(str(tmp_path / "missing")) == 0
    commands = facts.process_commands()
    with open(f"/proc/{os.getpid()}/cmdline", "rb") as handle:
        mine = handle.read().replace(b"\0", b" ").decode().strip()
    assert mine in commands


def test_this_hosts_addresses_include_loopback_last():
    addresses = facts.ipv4_addresses()
    assert "127.0.0.1" in addresses
    assert addresses[-1].startswith("127.")

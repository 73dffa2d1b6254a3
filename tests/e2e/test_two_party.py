"""Two parties, 9999 (guest) and 10000 (host), each all in one in its own container on a
private network, each rollsite's default route pointing at the other's:
``run_toy_example.py 9999 10000 1`` succeeds, run as FATE's docs say."""

from __future__ import annotations

import json
import shutil
import threading

import pytest

from .netns import PrivateNet
from .party import all_in_one
from .scenario import DROP, TOY_LINE, configure, install_bundle, prepare_os, start_target, timing

pytestmark = [pytest.mark.root, pytest.mark.slow]

TOY = ("source /data/projects/fate/init_env.sh && cd /data/projects/fate/python/examples/"
       "toy_example && python run_toy_example.py 9999 10000 1")


@pytest.fixture(scope="module")
def net():
    network = PrivateNet("p", 78)
    try:
        yield network
    finally:
        network.close()


@pytest.fixture(scope="module")
def parties(boxes, drop, net):
    ip9999, ip10000 = net.addresses
    guest = boxes("party9999", netns=net.names[0], binds={DROP: drop})
    host = boxes("party10000", netns=net.names[1], binds={DROP: drop})
    for box in (guest, host):
        prepare_os(box)
        install_bundle(box)
    configure(guest, all_in_one(9999, ip9999, role="guest", peer=(ip10000, 9370)))
    configure(host, all_in_one(10000, ip10000, role="host", peer=(ip9999, 9370)))
    took: dict[str, float] = {}
    threads = [threading.Thread(target=lambda n=n, b=b: took.__setitem__(n, start_target(b)))
               for n, b in (("9999", guest), ("10000", host))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(took) == 2, "systemctl start fate.target failed on a party (see the journal)"
    timing("two parties: systemctl start fate.target on both -> healthy", max(took.values()))
    return guest, host


def test_route_tables_point_at_the_other_party(parties, net):
    guest, host = parties
    for box, own, peer in ((guest, *net.addresses), (host, *reversed(net.addresses))):
        table = json.loads(box.read("/data/projects/fate/eggroll/conf/route_table.json"))
        routes = table["route_table"]
        assert [(r["ip"], r["port"]) for r in routes["default"]["default"]] == [(peer, 9370)]
        own_party = next(k for k in routes if k != "default")
        assert routes[own_party]["fateflow"][0]["ip"] == own


def test_toy_example_between_the_parties(parties):
    guest, _ = parties
    proc = guest.run("bash", "-c", TOY, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert TOY_LINE in proc.stdout, proc.stdout[-3000:]


#: From inside a container: a plaintext request to PEER:9371 must get no HTTP answer, a TLS
#: handshake without a client certificate must fail, and plain 9370 still answers.
PROBE = r"""
import socket, ssl, sys
peer = sys.argv[1]
s = socket.create_connection((peer, 9371), 5)
s.settimeout(5)
s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
try:
    answer = s.recv(200)
except OSError as exc:
    answer = b""
print("plaintext:", "HTTP" if answer.startswith(b"HTTP/") else "refused")
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    with ctx.wrap_socket(socket.create_connection((peer, 9371), 5)) as t:
        t.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        print("no-client-cert:", "HTTP" if t.recv(200).startswith(b"HTTP/") else "refused")
except (ssl.SSLError, OSError):
    print("no-client-cert: refused")
"""


def test_toy_example_over_tls_with_the_parties_own_certificates(parties, net):
    """Each party its own CA (fate-ctl certs), CA certificates exchanged as plain files,
    secure flags on, fate-configure --restart: the toy crosses the rollsites on 9371, and
    the secure port refuses plaintext (the "looks on but is plaintext" bug: eggroll#588)."""
    guest, host = parties
    ip9999, ip10000 = net.addresses
    names = {guest: "guest-9999-ca.pem", host: "host-10000-ca.pem"}
    for box in parties:
        box.run("fate-ctl", "certs", "init")
        box.run("fate-ctl", "certs", "export-ca", "-o", f"/root/{names[box]}")
    for src, dst in ((guest, host), (host, guest)):  # plain files, by any channel
        shutil.copy2(src.merged / "root" / names[src], dst.merged / "root" / names[src])
        dst.run("fate-ctl", "certs", "import-ca", f"/root/{names[src]}")
    for box in parties:
        box.run("fate-ctl", "certs", "enable", "/root/party.yaml")
        out = box.run("fate-configure", "/root/party.yaml", "--restart", timeout=600).stdout
        assert "restarted fate-rollsite" in out, out
        assert box.run("stat", "-c", "%a %U",
                       "/data/projects/data/fate/keys/" + ("guest-server.key" if box is guest
                                                           else "host-server.key")
                       ).stdout.split() == ["600", "app"]
    table = json.loads(guest.read("/data/projects/fate/eggroll/conf/route_table.json"))
    assert table["route_table"]["default"]["default"] == [
        {"ip": ip10000, "port": 9371, "is_secure": True}]
    proc = guest.run("bash", "-c", TOY, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert TOY_LINE in proc.stdout, proc.stdout[-3000:]
    logs = guest.run("grep", "-rh", f"via {ip10000}:9371", "/data/logs/fate/eggroll",
                     check=False).stdout
    assert logs, "the guest's rollsite did not forward over the secure port"
    probe = guest.run("python3", "-c", PROBE, ip10000).stdout.split("\n")
    assert probe[:2] == ["plaintext: refused", "no-client-cert: refused"], probe
    doctor = guest.run("fate-ctl", "doctor", check=False).stdout
    assert "ok   certificate /data/projects/data/fate/keys/guest-server.pem" in doctor, doctor

"""Two parties, 9999 (guest) and 10000 (host), each all in one in its own container on a
private network, each rollsite's default route pointing at the other's:
``run_toy_example.py 9999 10000 1`` succeeds, run as FATE's docs say."""

from __future__ import annotations

import json
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

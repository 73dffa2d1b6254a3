"""One party on two hosts over a private network: host A runs mysql, clustermanager,
rollsite, fate_flow and fateboard, host B a nodemanager; the same party YAML on both (and
A's secrets.yaml copied to B, as fate-configure asks). The toy example passes and B's
nodemanager is registered, and heartbeating, in A's MySQL."""

from __future__ import annotations

import threading

import pytest

from .netns import PrivateNet
from .party import party
from .scenario import (
    DROP,
    TOY_LINE,
    active_units,
    closed_ports,
    configure,
    install_bundle,
    prepare_os,
    start_target,
    timing,
    toy,
    wait_status_green,
)

pytestmark = [pytest.mark.root, pytest.mark.slow]

ON_A = ("fate-mysql", "fate-clustermanager", "fate-rollsite", "fate-flow", "fate-board")
ON_B = ("fate-nodemanager",)


@pytest.fixture(scope="module")
def net():
    network = PrivateNet("h", 77)
    try:
        yield network
    finally:
        network.close()


@pytest.fixture(scope="module")
def cluster(boxes, drop, net):
    a_ip, b_ip = net.addresses
    yaml_text = party(9999, {"rollsite": [a_ip], "clustermanager": [a_ip],
                             "nodemanager": [b_ip], "fate_flow": [a_ip],
                             "fateboard": [a_ip], "mysql": [a_ip]})
    a = boxes("fatea", netns=net.names[0], binds={DROP: drop})
    b = boxes("fateb", netns=net.names[1], binds={DROP: drop})
    for box in (a, b):
        prepare_os(box)
        install_bundle(box)
    configure(a, yaml_text)
    b.write("/etc/fate/secrets.yaml", a.read("/etc/fate/secrets.yaml"), mode="0600")
    configure(b, yaml_text)
    return a, b, a_ip, b_ip


def test_each_host_runs_only_its_services_and_all_are_healthy(cluster):
    a, b, a_ip, b_ip = cluster
    took: dict[str, float] = {}
    errors: list[BaseException] = []

    def start(name, box):
        try:
            took[name] = start_target(box)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(n, x)) for n, x in (("A", a), ("B", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    timing("two hosts: systemctl start fate.target on both -> healthy", max(took.values()))
    assert active_units(a, ON_A) == dict.fromkeys(ON_A, "active")
    assert active_units(b, ON_B) == dict.fromkeys(ON_B, "active")
    assert active_units(a, ON_B) == {"fate-nodemanager": "inactive"}
    assert set(active_units(b, ON_A).values()) == {"inactive"}
    ports_a = [(a_ip, p) for p in (3306, 4670, 9370, 9360, 9380, 8080)]
    assert closed_ports(b, ports_a + [(b_ip, 4671)]) == []
    wait_status_green(a)
    wait_status_green(b)


def test_toy_example_passes_across_the_hosts(cluster):
    a, _, _, _ = cluster
    assert toy(a).endswith(TOY_LINE)


def test_nodemanager_of_b_is_registered_in_a_mysql(cluster):
    a, _, a_ip, b_ip = cluster
    rows = a.mysql("SELECT node_type, host, port, status FROM eggroll_meta.server_node "
                   "ORDER BY node_type").splitlines()
    assert [r.split("\t") for r in rows] == [["CLUSTER_MANAGER", a_ip, "4670", "HEALTHY"],
                                             ["NODE_MANAGER", b_ip, "4671", "HEALTHY"]]

"""The harness's containers each have a cgroup tree of their own (tests/support/nspawn.py):
containers booted side by side in one shared tree broke each other's units at random, one
CI run lost every rollout test to it."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.nspawn import PREFIX, argv_in, cgroups_in, cgroups_of, own_cgroup, remove

pytestmark = [pytest.mark.root]


def test_a_process_started_in_its_cgroups_is_there_and_they_are_removed_after():
    cgroups = own_cgroup("selftest")
    try:
        assert cgroups, "no name=systemd nor unified cgroup hierarchy found on this host"
        paths = cgroups_in(subprocess.run(argv_in(cgroups, ["cat", "/proc/self/cgroup"]),
                                          capture_output=True, text=True, check=True).stdout)
        placed = [p for p in paths.values() if p.endswith(f"/{PREFIX}selftest")]
        assert len(placed) == len(cgroups), paths
    finally:
        remove(cgroups)
    assert not any(c.exists() for c in cgroups)


@pytest.mark.slow
def test_containers_booted_side_by_side_do_not_share_a_cgroup(boxes):
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = list(pool.map(boxes, ["cga", "cgb"]))   # each refuses a degraded boot
    trees = [cgroups_of(box.pid) for box in made]
    for box, paths in zip(made, trees):
        assert paths and all(f"/{PREFIX}{box.name}/" in p for p in paths.values()), paths
    assert not set(trees[0].values()) & set(trees[1].values())

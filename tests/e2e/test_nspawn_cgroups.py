"""The harness's containers each have a cgroup tree of their own (tests/support/nspawn.py):
containers booted side by side in one shared tree broke each other's units at random, one
CI run lost every rollout test to it."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.nspawn import PREFIX, argv_in, own_cgroup, remove

pytestmark = [pytest.mark.root]


def test_a_process_started_in_its_cgroups_is_there_and_they_are_removed_after():
    cgroups = own_cgroup("selftest")
    try:
        assert cgroups, "no name=systemd nor unified cgroup hierarchy found on this host"
        out = subprocess.run(argv_in(cgroups, ["cat", "/proc/self/cgroup"]),
                             capture_output=True, text=True, check=True).stdout
        lines = {line.split(":", 2)[1]: line.split(":", 2)[2] for line in out.splitlines()}
        placed = [key for key in ("name=systemd", "") if key in lines
                  and lines[key].endswith(f"/{PREFIX}selftest")]
        assert len(placed) == len(cgroups), out
    finally:
        remove(cgroups)
    assert not any(c.exists() for c in cgroups)


@pytest.mark.slow
def test_containers_booted_side_by_side_do_not_share_a_cgroup(boxes):
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = list(pool.map(boxes, ["cga", "cgb"]))   # each refuses a degraded boot
    trees = []
    for box in made:
        with open(f"/proc/{box.pid}/cgroup") as f:
            (path,) = [line.split(":", 2)[2] for line in f.read().splitlines()
                       if line.split(":", 2)[1] == "name=systemd"]
        assert f"/{PREFIX}{box.name}/" in path, path
        trees.append(path)
    assert trees[0] != trees[1]

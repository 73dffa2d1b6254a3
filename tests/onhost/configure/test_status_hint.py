"""``fate-ctl status`` shows seed §7.1's partition hint: egg processes x nodemanagers."""

import json

from packager.onhost.ctl import cli as ctl
from tests.support.configure import DATA, party_file


def test_partition_hint_is_egg_times_nodemanagers(scratch_root, tmp_path, fc, capsys):
    party = party_file(tmp_path, (DATA / "guest-3hosts.yaml").read_text())  # egg 6, 2 nodes
    assert fc(party, "--root", scratch_root, "--host", "10.0.1.2").rc == 0
    capsys.readouterr()
    ctl.main(["--root", str(scratch_root), "--manager", "none", "status"])
    out = capsys.readouterr().out
    assert "eggroll: 6 egg processes per node x 2 nodemanager(s): use partition 12" in out
    ctl.main(["--root", str(scratch_root), "--manager", "none", "status", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["eggroll"] == {"processors_per_node": 6, "nodemanagers": 2, "partitions": 12}

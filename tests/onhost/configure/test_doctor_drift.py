"""fate-ctl doctor's drift check is the configurator's own dry run, against a real apply."""

from packager.onhost.ctl import cli as ctl_cli
from tests.support.configure import DATA, party_file

from .test_apply import EGG, apply

BASE = (DATA / "guest-3hosts.yaml").read_text()


def doctor(root, capsys) -> str:
    ctl_cli.main(["--root", str(root), "--manager", "none", "doctor"])
    return capsys.readouterr().out


def test_no_drift_right_after_an_apply(tmp_path, scratch_root, fc, capsys):
    assert apply(fc, party_file(tmp_path, BASE), scratch_root, "10.0.1.2").rc == 0
    (scratch_root / "etc/fate/party.yaml").chmod(0o600)
    out = doctor(scratch_root, capsys)
    assert "ok   no config drift since the last fate-configure" in out, out


def test_a_hand_edit_of_a_rendered_file_is_drift(tmp_path, scratch_root, fc, capsys):
    assert apply(fc, party_file(tmp_path, BASE), scratch_root, "10.0.1.2").rc == 0
    egg = scratch_root / EGG
    egg.write_text(egg.read_text().replace("processors.per.node=6", "processors.per.node=60"))
    out = doctor(scratch_root, capsys)
    assert f"FAIL drift: would write /{EGG} (content)" in out, out

"""--init supervisor: program files from the units' single source of truth, same env."""


from tests.support.configure import DATA, party_file, snapshot

BASE = (DATA / "guest-3hosts.yaml").read_text()
PROGRAMS = "data/projects/common/supervisord/supervisord.d"


def test_supervisor_programs_for_this_hosts_services(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    result = fc(party, "--root", scratch_root, "--host", "10.0.1.2", "--init", "supervisor")
    assert result.rc == 0, result.err
    written = sorted(p.name for p in (scratch_root / PROGRAMS).iterdir())
    assert written == ["fate-clustermanager.conf", "fate-fateboard.conf", "fate-fateflow.conf",
                       "fate-nodemanager.conf"]
    flow = (scratch_root / PROGRAMS / "fate-fateflow.conf").read_text()
    assert "[program:fate-fateflow]" in flow
    # the env file's values reach the program: fate-waitport waits for what fate_flow needs
    assert "mysql://10.0.1.3:3306 grpc://10.0.1.2:4670" in flow
    cm = (scratch_root / PROGRAMS / "fate-clustermanager.conf").read_text()
    assert "-p 4670 -s fate-guest" in cm
    # supervisor hosts get no systemd units enabled
    assert not (scratch_root / "etc/systemd/system/fate.target.wants").exists()
    again = snapshot(scratch_root)
    second = fc(party, "--root", scratch_root, "--host", "10.0.1.2", "--init", "supervisor")
    assert "nothing changed: already configured" in second.out
    assert snapshot(scratch_root) == again


def test_supervisor_program_of_a_moved_service_is_removed(tmp_path, scratch_root, fc):
    party = party_file(tmp_path, BASE)
    assert fc(party, "--root", scratch_root, "--host", "10.0.1.2", "--init", "supervisor").rc == 0
    party.write_text(BASE.replace("  fateboard:\n    ips: [10.0.1.2]",
                                  "  fateboard:\n    ips: [10.0.1.1]"))
    result = fc(party, "--root", scratch_root, "--host", "10.0.1.2", "--init", "supervisor")
    assert result.rc == 0, result.err
    assert f"removed /{PROGRAMS}/fate-fateboard.conf" in result.out
    assert not (scratch_root / PROGRAMS / "fate-fateboard.conf").exists()

"""``fate-pkg units render|lint``: the entry point the RPM build and `check` use."""

from __future__ import annotations

from packager.cli import main


def test_render_then_lint_is_clean(tmp_path, capsys):
    assert main(["units", "render", str(tmp_path), "--account", "fate:fate"]) == 0
    unit_dir = tmp_path / "usr/lib/systemd/system"
    assert "User=fate" in (unit_dir / "fate-flow.service").read_text()
    files = [str(p) for p in sorted(unit_dir.iterdir())]
    assert main(["units", "lint", *files]) == 0
    assert "7 unit file(s) OK for systemd 219" in capsys.readouterr().out


def test_lint_reports_each_problem_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.service"
    bad.write_text("[Unit]\nStartLimitIntervalSec=5\n[Service]\nExecStart=/bin/true\n"
                   "ReadWritePaths=/data\n")
    assert main(["units", "lint", str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{bad}:2: StartLimitIntervalSec= is not a systemd 219 [Unit] directive",
                   f"{bad}:5: ReadWritePaths= is not a systemd 219 [Service] directive"]


def test_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["units", "lint", str(tmp_path / "nope.service")]) == 2
    assert "no such unit file" in capsys.readouterr().err

"""``fate-pkg rpm`` as a user meets it: one-line errors, exit codes, interrupts, memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FATE_PKG = [sys.executable, "-m", "packager.cli"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*FATE_PKG, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})


def write_spec(tmp_path: Path, files: str, extra: str = "") -> Path:
    spec = tmp_path / "pkg.yaml"
    spec.write_text(f"name: fate-x\nversion: '1'\nrelease: '1'\nsummary: X\n{extra}"
                    f"files:\n{files}")
    return spec


def test_builds_and_prints_a_table(tmp_path):
    (tmp_path / "f").write_text("x\n")
    spec = write_spec(tmp_path, "  - {src: f, dst: /data/projects/fate-x/f}\n")
    r = run("rpm", str(spec), "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "fate-x-1-1.x86_64.rpm" in r.stdout and "compression" in r.stdout
    assert (tmp_path / "out/fate-x-1-1.x86_64.rpm").exists()


@pytest.mark.parametrize("files,extra,message", [
    ("  - {src: missing.bin, dst: /data/projects/fate-x/m}\n", "",
     "files[0].src: "),
    ("  - {src: f, dst: /data/projects/fate-x/f, mode: '0999'}\n", "",
     "files[0].mode: '0999' is not an octal mode"),
    ("  - {src: f, dst: relative/path}\n", "",
     "files[0].dst: 'relative/path' must be an absolute path"),
    ("  - {src: f, dst: /data/projects/fate-x/f, colour: red}\n", "",
     "files[0].colour: unknown key"),
    ("  - {src: f, dst: /data/projects/fate-x/f}\n", "requires: ['(a or b)']\n",
     "requires[0]: '(a or b)' is not a dependency"),
    ("  - {src: f, dst: /data/projects/fate-x/f}\n", "compression: zstd\n",
     "compression: 'zstd': rpm 4.11 reads only gzip or xz"),
    ("  - {dst: /usr/bin, dir: true}\n", "", "/usr/bin is a system directory"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, files, extra, message):
    (tmp_path / "f").write_text("x\n")
    spec = write_spec(tmp_path, files, extra)
    r = run("rpm", str(spec), "-o", "out", cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fate-pkg: error: ")
    assert message in lines[0].replace('"', "'")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_unreadable_yaml(tmp_path):
    spec = tmp_path / "pkg.yaml"
    spec.write_text("name: [unclosed\n")
    r = run("rpm", str(spec), cwd=tmp_path)
    assert r.returncode == 2 and "pkg.yaml:" in r.stderr and "not valid YAML" in r.stderr


def test_ctrl_c_leaves_no_partial_rpm(tmp_path):
    with open(tmp_path / "big", "wb") as f:
        for _ in range(96):
            f.write(os.urandom(1 << 20))
    spec = write_spec(tmp_path, "  - {src: big, dst: /data/projects/fate-x/big}\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.rpm").write_text("an older build that must survive")
    proc = subprocess.Popen([*FATE_PKG, "rpm", str(spec), "-o", str(out), "--compression",
                             "xz:6", "--threads", "1"], cwd=tmp_path, stderr=subprocess.PIPE,
                            text=True, env={**os.environ,
                                            "PYTHONPATH": str(Path(__file__).parents[2])})
    deadline = time.monotonic() + 30
    while not any(out.glob(".fate-pkg-tmp-*/*.payload")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(out.glob(".fate-pkg-tmp-*/*.payload")), "the build should be under way"
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.rpm"]


def test_memory_stays_bounded_for_a_large_package(tmp_path):
    """A 768 MiB payload is streamed: peak RSS stays far below the package size."""
    with open(tmp_path / "big", "wb") as f:
        f.truncate(768 << 20)  # sparse zeros: cheap to read and compress
    spec = write_spec(tmp_path, "  - {src: big, dst: /data/projects/fate-x/big}\n")
    # GNU time measures from outside: a child started from this (large) pytest process
    # would otherwise report pytest's own RSS, which Linux carries over fork and exec.
    report = tmp_path / "rss"
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(report), *FATE_PKG, "rpm",
                        str(spec), "-o", "out", "--compression", "gzip:1"], cwd=tmp_path,
                       capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert r.returncode == 0, r.stderr
    peak_kib = int(report.read_text().split()[-1])
    assert (tmp_path / "out/fate-x-1-1.x86_64.rpm").stat().st_size > 0
    assert peak_kib < 120 * 1024, f"peak RSS {peak_kib} KiB"

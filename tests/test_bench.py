"""The benchmarks run as their --help says, from any starting state of the disk."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_rpm_writer_creates_its_workdir(tmp_path: Path) -> None:
    workdir = tmp_path / "not" / "yet"
    run = subprocess.run([sys.executable, str(BENCH / "rpm_writer.py"), "--size-mib", "1",
                          "--workdir", str(workdir)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "fate-pkg writer" in run.stdout
    assert workdir.is_dir() and not list(workdir.iterdir())  # its scratch tree is removed

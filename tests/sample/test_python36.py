"""The stand-ins run on the target hosts' python3: CentOS 7 has 3.6, so they must too."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from packager.sample import payload

#: Python programs in the payload that do not end in .py (java, mysqld, jar "classes").
NOT_DOT_PY = ("jdk/bin/java", "mysql/mysql-8.0.13/bin/mysqld",
              "mysql/mysql-8.0.13/bin/mysqld_safe")


def test_payload_needs_no_more_than_python36(tmp_path: Path) -> None:
    sources = sorted(payload.PAYLOAD.rglob("*.py")) + sorted(payload.PAYLOAD.rglob("*.class"))
    sources += [payload.PAYLOAD / rel for rel in NOT_DOT_PY]
    assert len(sources) > 20
    for index, source in enumerate(sources):
        shutil.copy(source, tmp_path / f"f{index:03d}.py")
    vermin = Path(sys.executable).with_name("vermin")
    run = subprocess.run([str(vermin), "--target=3.6-", "--no-tips", "--violations",
                          "--eval-annotations", str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_stand_in_says_it_is_a_sample() -> None:
    for source in payload.PAYLOAD.rglob("*"):
        if source.is_file() and source.suffix in (".py", ".class", ".sh", "") and \
                source.stat().st_size > 0 and source.name not in ("MANIFEST.MF",):
            head = source.read_text().split("\n", 3)
            assert any("FATE SAMPLE STAND-IN" in line for line in head), source

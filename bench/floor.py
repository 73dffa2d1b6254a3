"""The work a build of the release cannot avoid, done by bare tools: the floor of the build.

Issue #12 asks for the build's per-file overhead. Measured against the compressor alone,
it counts as overhead work that no packager can skip: inflating 3 GiB of tar.gz artifacts
and the wheels inside them, running the release's own Miniconda installer and virtualenv,
byte-compiling the modules with the release's Python. Here each of those is done once by
the plainest tool, in a shell, on the same inputs and in the same run as the build:

- ``pigz -dc ARCHIVE | tar -x`` of every artifact, then of every ``*.tar.gz`` those hold
  (FATE_install's python/eggroll/fateboard, MySQL's server, the wheelhouse);
- the installer (``sh Miniconda3-*.sh -b -p P``), ``pip install`` of the virtualenv wheel
  and ``virtualenv``, as the python-env step runs them;
- ``unzip -q -o`` of every wheel into site-packages;
- ``python3 -m compileall -q -j CORES`` over Miniconda, the venv and FATE's trees, with
  the release's interpreter;

plus the compressor alone on the RPMs' payload bytes (``scale.compressor_alone``). The
build's overhead per path is its wall time beyond the sum, divided by its paths: what
fate-pkg itself adds (checks, the lint, the RPM format, moving bytes between steps).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.measure import gnu_time


def _sh(script: str) -> float:
    return gnu_time(["sh", "-ec", script]).seconds


def bare_tools(work: Path, artifacts: list[Path]) -> dict:
    """Seconds each floor step took; ``artifacts`` are the release's files (the cache's)."""
    root = work / "floor"
    root.mkdir()
    cores = os.cpu_count() or 1
    out = {"extract_s": 0.0}
    trees = []
    for i, art in enumerate(artifacts):
        dest = root / f"a{i}"
        dest.mkdir()
        out["extract_s"] += _sh(f"pigz -dc '{art}' | tar -x -C '{dest}'")
        trees.append(dest)
    for tree in trees:
        for inner in sorted(tree.rglob("*.tar.gz")):
            dest = inner.parent / (inner.name[:-len(".tar.gz")] + ".x")
            dest.mkdir()
            out["extract_s"] += _sh(f"pigz -dc '{inner}' | tar -x -C '{dest}'")
    installer = next(root.rglob("Miniconda3-*.sh"))
    venv_wheel = next(root.rglob("virtualenv-*.whl"))
    conda, venv = root / "conda", root / "venv"
    py = conda / "bin" / "python3"
    env = "PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1"
    out["installer_s"] = _sh(
        f"sh '{installer}' -b -p '{conda}' >/dev/null; "
        f"{env} '{py}' -m pip install -q --no-index '{venv_wheel}'; "
        f"'{conda}/bin/virtualenv' -p '{py}' --no-wheel --no-setuptools --no-download "
        f"'{venv}' >/dev/null")
    site = next(venv.glob("lib/python*/site-packages"))
    wheels = sorted(p for p in root.rglob("*.whl") if p != venv_wheel)
    listing = work / "floor-wheels"
    listing.write_text("".join(f"{w}\n" for w in wheels))
    out["unzip_s"] = _sh(f"while read -r w; do unzip -q -o \"$w\" -d '{site}'; done "
                         f"< '{listing}'")
    fate = [d for d in root.rglob("*") if d.is_dir() and d.name in ("python.x", "eggroll.x")]
    targets = " ".join(f"'{d}'" for d in [conda, venv, *fate])
    # conda's package cache is not compiled by the build either (bytecode.SKIP_TOP); files
    # in Python 2 syntax make compileall exit 1, as they make the build log them
    out["compile_s"] = _sh(f"'{py}' -m compileall -q -j {cores} -x '{conda}/pkgs/' "
                           f"{targets} >/dev/null || true")
    out["wheels"] = len(wheels)
    subprocess.run(["rm", "-rf", str(root)], check=True)
    listing.unlink()
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}

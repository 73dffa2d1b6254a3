"""Build FATE's Python environment at its final prefix, offline, from the release's files.

Steps as ansible-nfate does them (reference §1.3 [1.7 proxy]): run the Miniconda installer
(``-b -p PREFIX``), install virtualenv from its wheel, create the venv (``--no-wheel
--no-setuptools --no-download``), then install the pinned wheels as ``pip install -r
requirements.txt --no-index --find-links WHEELS --only-binary=:all:`` would (sdists are
refused: nothing compiles on the build host for the target), with
:mod:`packager.assemble.wheels`: the same tree, in a fraction of pip's time. Everything is
installed under ``STAGE/root/<final prefix>``, relocated (:mod:`packager.assemble.relocate`)
and byte-compiled for the final prefix by the release's Python 3.6
(:mod:`packager.assemble.bytecode`), with no network for any child process.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Collection

from packager.assemble.bytecode import compile_trees, refuse_leftovers
from packager.assemble.isolate import offline_command, offline_env
from packager.assemble.relocate import relocate
from packager.assemble.wheels import install, resolve, wheelhouse
from packager.errors import UserError


@dataclass(frozen=True)
class PythonEnvSpec:
    installer: Path
    virtualenv_wheel: Path | None
    wheels: Path
    requirements: Path
    conda_prefix: str
    venv_prefix: str


def build_python_env(spec: PythonEnvSpec, stage_root: Path, log: Path,
                     sde: int | None = None) -> None:
    """``sde``: the build's SOURCE_DATE_EPOCH, the one the RPM writer clamps mtimes to (the
    byte code records its sources' mtimes)."""
    conda = stage_root / spec.conda_prefix.lstrip("/")
    venv = stage_root / spec.venv_prefix.lstrip("/")
    sdists = [p.name for p in spec.wheels.iterdir()
              if p.suffix in (".gz", ".zip", ".bz2") and not p.name.endswith(".whl")]
    if sdists:
        raise UserError(
            f"{spec.wheels.name}: source distributions would need a compiler: "
            f"{', '.join(sorted(sdists))} (ship wheels built for manylinux2014)"
        )
    conda.parent.mkdir(parents=True, exist_ok=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out, tempfile.TemporaryDirectory(prefix="fate-pip-cache-") as cache:
        env = offline_env({"PIP_CACHE_DIR": cache})  # not the build user's ~/.cache/pip
        _run(["sh", str(spec.installer), "-b", "-p", str(conda)], out, "Miniconda installer", env)
        py = conda / "bin" / "python3"
        if spec.virtualenv_wheel:
            _run([str(py), "-m", "pip", "install", "--no-index", str(spec.virtualenv_wheel)],
                 out, "virtualenv wheel", env)
            _run([str(conda / "bin" / "virtualenv"), "-p", str(py), "--no-wheel",
                  "--no-setuptools", "--no-download", str(venv)], out, "virtualenv", env)
        else:
            _run([str(py), "-m", "venv", str(venv)], out, "venv", env)
        # What `pip install --no-index --no-compile --only-binary=:all: --find-links WHEELS
        # -r requirements.txt` did, in this process (packager.assemble.wheels: the same tree
        # and RECORD, each file written once). Byte code is made after relocation (it
        # would embed the staging path), below.
        verbatim = install_requirements(spec.requirements, spec.wheels, venv, out)
        prefix = str(stage_root)
        leftovers: list[Path] = []
        for tree in (conda, venv):  # "STAGE/root/data/..." -> "/data/..." everywhere
            done = relocate(tree, prefix, "", skip=verbatim)
            normalise_dist_info(tree, done.changed)
            leftovers += done.leftovers
        del verbatim  # a path per file copied from a wheel: not held while compiling
        if not leftovers:
            leftovers = compile_trees(py, [conda, venv], stage_root, sde, out).leftovers
    refuse_leftovers("python env", leftovers)


def install_requirements(requirements: Path, wheels: Path, venv: Path, log) -> set[str]:
    """The pinned wheels into ``venv`` for its own Python version (lib/pythonX.Y); returns
    the files copied unchanged from the wheels (see :func:`wheels.install`)."""
    libs = sorted(venv.glob("lib/python*/site-packages"))
    if len(libs) != 1:
        raise UserError(f"python env: {venv} has no single lib/pythonX.Y/site-packages")
    major, _, minor = libs[0].parent.name[len("python"):].partition(".")
    chosen = resolve(requirements, wheelhouse(wheels), (int(major), int(minor)),
                     _full_version(venv))
    log.write(f"$ install {len(chosen)} wheels from {wheels} (-r {requirements.name})\n")
    verbatim = install(chosen, venv)
    log.write("".join(f"  {w.path.name}\n" for w in chosen) +
              f"  {len(verbatim)} files copied as they are\n")
    return verbatim


def _full_version(venv: Path) -> str:
    """The venv's Python as X.Y.Z (Requires-Python may name a micro version: ``>=3.6.1``),
    asked of its interpreter; "" when there is none to ask (then X.Y.0 is assumed)."""
    python = venv / "bin" / "python"
    if not python.exists():
        return ""
    r = subprocess.run(offline_command([str(python), "-c", "import platform; "
                                        "print(platform.python_version())"]),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       env=offline_env({}))
    return r.stdout.strip() if r.returncode == 0 else ""


def normalise_dist_info(tree: Path, changed: Collection[str] | None = None) -> None:
    """Make pip's install records reproducible and true for the target.

    ``direct_url.json`` names the wheel's path in the build's temporary directory,
    ``RECORD`` lists the ``__pycache__`` files (with hashes of timestamped bytecode) that
    relocation removed, and holds the hashes of scripts as they were before relocation;
    all of these would differ between two builds of the same inputs.

    ``changed``: the files relocation rewrote; only their rows are rehashed (pip's hash of
    an untouched file is right). None rehashes every row. At 70k venv files, rehashing all
    was a third read of 3.5 GiB.
    """
    for record in tree.rglob("*.dist-info/RECORD"):
        (record.parent / "direct_url.json").unlink(missing_ok=True)
        site = record.parent.parent
        out = []
        for row in csv.reader(record.read_text().splitlines()):
            if not row or "__pycache__/" in row[0] or row[0].endswith("/direct_url.json"):
                continue
            target = site / row[0]
            # RECORD rows of scripts are "../../../bin/x": compare normalised paths
            if changed is not None and os.path.normpath(target) not in changed:
                pass  # untouched by relocation: pip's row is right
            elif len(row) >= 3 and row[1] and target.is_file() and not target.is_symlink():
                data = target.read_bytes()
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                row = [row[0], "sha256=" + digest.decode(), str(len(data))]
            out.append(row)
        with open(record, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(out)


def _run(cmd: list[str], log, what: str, env: dict[str, str]) -> None:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    r = subprocess.run(offline_command(cmd), stdout=log, stderr=subprocess.STDOUT,
                       env=env)
    if r.returncode != 0:
        # the log lives in the build's work directory, which a failed build removes: the
        # message carries its last lines
        log.flush()
        raise UserError(f"python env: {what} failed (exit {r.returncode}); the last lines of "
                        f"its log:\n" + "\n".join("  | " + line for line in _tail(log.name)))


def _tail(path: str, lines: int = 15) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return [line.rstrip("\n") for line in handle.readlines()[-lines:]]

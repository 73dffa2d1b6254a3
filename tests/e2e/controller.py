"""The control host's Ansible for the rollout test: EPEL 7's version (2.9.27, from PyPI) in a
venv of an older CPython found on the machine (ansible 2.9 runs on Python <= 3.9), and the
current ansible-core for ``--syntax-check``. Both venvs are cached beside the container root
(``$FATE_PKG_E2E_CACHE``), keyed by the interpreter and the pinned versions."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .rootfs import BASE

ANSIBLE_29 = "ansible==2.9.27"
#: 2.9 needs a Python it knows (<= 3.9); the newest first.
OLD_PYTHONS = ("3.9.18", "3.8.18")
CORE = "ansible-core"


def old_python() -> Path | None:
    """An older CPython from pyenv (``~/.pyenv/versions/X/bin/python3``), or None."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for version in OLD_PYTHONS:
        python = root / version / "bin" / "python3"
        if python.exists():
            return python
    return None


def _venv(python: Path, requirement: str) -> Path:
    key = hashlib.sha256(f"{python}\n{requirement}".encode()).hexdigest()[:12]
    env = BASE / "cache" / f"ansible-{key}"
    if (env / ".complete").exists():
        return env
    shutil.rmtree(env, ignore_errors=True)
    env.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(python), "-m", "venv", str(env)], check=True, capture_output=True,
                   timeout=300)
    proc = subprocess.run([str(env / "bin/pip"), "install", "-q", "--disable-pip-version-check",
                           requirement], capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(f"pip install {requirement}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    (env / ".complete").write_text(requirement + "\n")
    return env


def ansible_29() -> Path:
    """The venv holding ansible 2.9.27 (its bin/ has ansible-playbook)."""
    python = old_python()
    if python is None:
        raise RuntimeError(f"no CPython {' or '.join(OLD_PYTHONS)} under ~/.pyenv/versions "
                           "(ansible 2.9 runs on Python <= 3.9)")
    return _venv(python, ANSIBLE_29)


def ansible_core() -> Path:
    """The venv holding the current ansible-core (on this interpreter)."""
    return _venv(Path(sys.executable).resolve(), CORE)


if __name__ == "__main__":  # warm the cache: python -m tests.e2e.controller
    print(ansible_29(), ansible_core())

"""What the unit-file and fate-ctl tests share (tests/units on the build side,
tests/onhost/units on-host): a free port, a unit-file reader, executables written on the fly.

Python 3.6 (the on-host tests run in the 3.6 pass of tests/onhost/test_on_python36.py too).
The fixtures (a listening socket, a fake systemctl) are in tests/onhost/units/conftest.py.
"""

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def closed_port() -> int:
    """A port nothing listens on: bound then released (nobody else grabs it this fast)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_unit(text: str) -> List[Tuple[str, str, str]]:
    """(section, key, value) for every directive, in order; duplicates kept as systemd does."""
    out, section = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.append((section, key, value))
    return out


def values(entries: List[Tuple[str, str, str]], section: str, key: str) -> List[str]:
    return [v for s, k, v in entries if s == section and k == key]


def write_exe(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def into_closed_pipe(argv: Sequence[str], env: Optional[Dict[str, str]] = None
                     ) -> "subprocess.CompletedProcess[str]":
    """``argv`` with stdout a real pipe whose reader has already gone (``| head`` that
    read what it wanted): the first write or the final flush meets EPIPE. stderr as text."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(argv, stdout=write, stderr=subprocess.PIPE, encoding="utf-8",
                              errors="replace", cwd=str(REPO), env=env, timeout=120)
    finally:
        os.close(write)


def c_locale_env() -> Dict[str, str]:
    """The environment with the C locale: what a CentOS 7 host's python3 gets with LANG unset,
    or over ssh from a Mac (LC_CTYPE=UTF-8, unknown to Linux). Python 3.6 then decodes pipes
    and encodes stdout as ASCII; 3.7 and later switch to UTF-8 by themselves (PEP 538, 540),
    so on the build venv these runs pass either way: the 3.6 pass is the one that tells."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LC_", "LANG", "PYTHONUTF8", "PYTHONIOENCODING"))}
    env["LC_ALL"] = "C"
    return env


def python_in_c_locale(code: str, args: Sequence[object] = (), timeout: float = 120
                       ) -> "subprocess.CompletedProcess[bytes]":
    """``python -c CODE ARGS`` in a new interpreter (this one) in the C locale, from the
    checkout (or the 3.6 pass's tree); stdout and stderr as bytes: the test decodes them."""
    return subprocess.run([PYTHON, "-s", "-c", code, *[str(a) for a in args]], cwd=str(REPO),
                          env=c_locale_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


def main_in_c_locale(module: str, args: Sequence[object], timeout: float = 120
                     ) -> "subprocess.CompletedProcess[bytes]":
    """``MODULE.main()`` with ``args`` in the C locale, as the /usr/bin wrappers run it."""
    return python_in_c_locale(f"import sys; from {module} import main; sys.exit(main())", args,
                              timeout)

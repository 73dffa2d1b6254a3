"""Run build steps' child processes with no network at all.

In-process sockets are blocked by :mod:`packager.netguard`; child processes (an installer,
pip) are started in a new network namespace (``unshare --net``: only a down loopback), when
the build runs as root. Otherwise pip still gets ``--no-index`` and proxy variables that
point nowhere, and the report says the stronger isolation was not available.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess


@functools.lru_cache(maxsize=1)
def netns_available() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    return r.returncode == 0


def offline_command(cmd: list[str]) -> list[str]:
    return ["unshare", "--net", "--", *cmd] if netns_available() else cmd


def offline_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a build step's child: no proxies, no index, none of the build
    user's PIP_* settings. No ``PIP_NO_CACHE_DIR`` either: pips before 19 (10.0 of
    Miniconda 4.5.4, 18.1 of CPython 3.6.15) turn its "1" into a cache path of int 1 and
    crash; the caller points ``PIP_CACHE_DIR`` at a directory of its own instead."""
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("PIP_")}
    env.update({
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "http_proxy": "http://offline.invalid:9", "https_proxy": "http://offline.invalid:9",
        "no_proxy": "",
    })
    env.update(extra or {})
    return env

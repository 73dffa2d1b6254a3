"""``systemctl``, the one way the on-host tools call it.

Against a live host, or with ``--root=DIR`` for a tree without a running systemd (image
builds, tests: enable/disable/is-enabled work there). Output is text with stderr merged,
so an error message reaches the operator whole, decoded as UTF-8 (systemd's, the journal's)
rather than by the locale: Python 3.6 in the C locale would decode ASCII and fail on the
first other byte. systemd 219 (CentOS 7) has no
``show --value``; :func:`show` parses ``KEY=value`` lines.
"""

import subprocess
from typing import Dict, List, Optional

TIMEOUT = 120.0


class SystemctlError(OSError):
    """systemctl could not be run at all (missing, or it hung)."""


def run(*args: str, root: Optional[str] = None,
        timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """``systemctl [--root=ROOT] ARGS``; the caller looks at ``returncode``."""
    argv = ["systemctl"] + ([f"--root={root}"] if root else []) + list(args)
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              encoding="utf-8", errors="replace", check=False,
                              timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SystemctlError(f"cannot run {' '.join(argv)}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None


def is_active(unit: str) -> bool:
    try:
        return run("is-active", "--quiet", unit).returncode == 0
    except SystemctlError:
        return False


def show(unit: str, props: List[str]) -> Optional[Dict[str, str]]:
    """``systemctl show -p A -p B UNIT`` as a dict, or None when systemctl fails."""
    args = ["show", unit]
    for prop in props:
        args += ["-p", prop]
    try:
        proc = run(*args, timeout=15)
    except SystemctlError:
        return None
    if proc.returncode != 0:
        return None
    result = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            result[key] = value
    return result

"""The target root the e2e containers boot: a Debian bookworm tree made by debootstrap.

Building it takes one to two minutes, so it is cached under /var/tmp by a content key (the
suite, the package list and the post-install steps below): a change to any of them makes a
new key and a new tree, and an old tree is never reused for a different recipe. Containers
boot it with ``--ephemeral``, so the cached tree itself is never written to by a test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

SUITE = "bookworm"
#: What the target needs: systemd as PID 1, rpm + dnf (our stand-in for yum), MariaDB (the
#: sample's mysqld runs it), python3 + venv (fate-tools and the sample Miniconda), iproute2
#: (addresses on the private network), procps (pgrep/kill for the day-2 tests).
PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "passwd", "rpm", "dnf", "createrepo-c",
    "mariadb-server", "mariadb-client", "python3", "python3-venv", "iproute2", "procps",
    "iputils-ping",
)
#: Run chrooted after debootstrap. MariaDB's own unit is masked: in FATE the database is
#: fate-mysql.service (the sample's mysqld wraps mariadbd), which needs port 3306 for itself.
#: Units that make no sense in a container are masked so that boot reaches "running".
POST_STEPS = (
    "systemctl mask mariadb.service mysql.service mysqld.service",
    "systemctl mask systemd-timesyncd.service e2scrub_reap.service apt-daily.timer "
    "apt-daily-upgrade.timer",
    "rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/*",
    "rm -rf /var/lib/mysql",
)
BASE = Path(os.environ.get("FATE_PKG_E2E_CACHE", "/var/tmp/fate-pkg-e2e"))


def recipe_key() -> str:
    """12 hex digits naming the recipe (suite, packages, post steps)."""
    text = "\n".join([SUITE, *sorted(PACKAGES), "--", *POST_STEPS])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_rootfs() -> Path:
    """The cached tree for the current recipe, built first when it is missing."""
    root = BASE / f"rootfs-{recipe_key()}"
    if (root / ".complete").exists():
        return root
    for tool in ("debootstrap", "systemd-nspawn", "nsenter"):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is missing: it is listed in scripts/apt-packages.txt")
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=1200)
    if proc.returncode != 0:
        log = tmp / "debootstrap/debootstrap.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise RuntimeError(f"debootstrap failed ({proc.returncode}): {proc.stderr[-2000:]}{tail}")
    for step in POST_STEPS:
        subprocess.run(["chroot", str(tmp), "/bin/sh", "-ec", step], check=True,
                       capture_output=True, timeout=120)
    (tmp / ".complete").write_text(recipe_key() + "\n")
    tmp.rename(root)
    return root

"""The target root the e2e containers boot: a Debian bookworm tree made by debootstrap.

Building it takes two to four minutes, so it is cached under /var/tmp by a content key (the
suite and the package list): a change to either makes a new tree. The post-install steps
below are idempotent and keyed separately (a marker file per version of the steps), so
changing them re-applies them to the cached tree instead of bootstrapping again. Containers
boot an overlay of it (container.py): the cached tree is never written by a test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

SUITE = "bookworm"
#: What the target needs: systemd as PID 1, rpm + dnf (our stand-in for yum) + createrepo_c
#: (the update repository of the upgrade test), MariaDB (the
#: sample's mysqld runs it), python3 + venv (fate-tools and the sample Miniconda), iproute2
#: (addresses on the private network), procps (pgrep/kill for the day-2 tests).
PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "passwd", "rpm", "dnf", "createrepo-c",
    "mariadb-server", "mariadb-client", "python3", "python3-venv", "iproute2", "procps",
)
#: Run chrooted after debootstrap, idempotent. MariaDB's own unit is masked: in FATE the
#: database is fate-mysql.service (the sample's mysqld wraps mariadbd), which needs port 3306
#: for itself. Units that make no sense in a container are masked so that boot reaches
#: "running". /etc/hosts as CentOS 7 ships it (mariadb-install-db resolves localhost).
POST_STEPS = (
    "printf '127.0.0.1   localhost localhost.localdomain\\n"
    "::1         localhost localhost.localdomain\\n' > /etc/hosts",
    "echo fate-e2e > /etc/hostname",
    "systemctl mask mariadb.service mysql.service mysqld.service",
    "systemctl mask systemd-timesyncd.service e2scrub_reap.service apt-daily.timer "
    "apt-daily-upgrade.timer",
    "rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/*",
    "rm -rf /var/lib/mysql",
)
BASE = Path(os.environ.get("FATE_PKG_E2E_CACHE", "/var/tmp/fate-pkg-e2e"))
#: CentOS 7's python3 is 3.6. The root gets this machine's CPython 3.6
#: (scripts/find-python36.sh) laid out as CentOS 7's python3 package has it: /usr/bin/python3.6,
#: its library in /usr/lib/python3.6, /usr/bin/python3 -> python3.6. So fate-tools, the
#: sample's launchers and stand-ins run on 3.6 and no newer interpreter is theirs to find.
#: Debian's 3.11 stays for dnf only (/usr/bin/python3.11 in dnf's #! line), as CentOS 7
#: keeps its python 2.7 for yum. Part of the recipe: a tree with it is another tree.
PYTHON36 = "cpython-3.6 as /usr/bin/python3"
_PY36_SKIP = shutil.ignore_patterns("test", "tests", "idlelib", "tkinter", "turtledemo",
                                    "__pycache__", "config-3.6m-*", "lib2to3")


def recipe_key() -> str:
    """12 hex digits naming the tree (suite, packages)."""
    text = "\n".join([SUITE, *sorted(PACKAGES), PYTHON36])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def post_key() -> str:
    return hashlib.sha256("\n".join(POST_STEPS).encode()).hexdigest()[:12]


def _post(root: Path) -> None:
    marker = root / f".post-{post_key()}"
    if marker.exists():
        return
    for step in POST_STEPS:
        subprocess.run(["chroot", str(root), "/bin/sh", "-ec", step], check=True,
                       capture_output=True, timeout=120)
    for old in root.glob(".post-*"):
        old.unlink()
    marker.write_text(post_key() + "\n")


def ensure_rootfs() -> Path:
    """The cached tree for the current recipe, built first when it is missing."""
    root = BASE / f"rootfs-{recipe_key()}"
    if (root / ".complete").exists():
        _post(root)
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
    _install_python36(tmp)
    _post(tmp)
    (tmp / ".complete").write_text(recipe_key() + "\n")
    tmp.rename(root)
    _prune(keep=root)
    return root


def _install_python36(root: Path) -> None:
    found = subprocess.run([str(Path(__file__).resolve().parents[2] / "scripts/find-python36.sh")],
                           capture_output=True, text=True)
    if found.returncode != 0:
        raise RuntimeError("no CPython 3.6 on this machine for the e2e root "
                           "(scripts/find-python36.sh; set FATE_PKG_PYTHON36)")
    prefix = Path(found.stdout.strip()).resolve().parents[1]
    shutil.copytree(prefix / "lib/python3.6", root / "usr/lib/python3.6", symlinks=True,
                    ignore=_PY36_SKIP)
    for lib in prefix.glob("lib/libpython3.6m.so*"):
        shutil.copy2(lib, root / "usr/lib/x86_64-linux-gnu" / lib.name, follow_symlinks=True)
    shutil.copy2(prefix / "bin/python3.6", root / "usr/bin/python3.6")
    for tool in sorted((root / "usr/bin").glob("dnf*")):
        text = tool.read_bytes()
        if text.startswith(b"#!/usr/bin/python3\n"):
            tool.write_bytes(b"#!/usr/bin/python3.11\n" + text[len(b"#!/usr/bin/python3\n"):])
    (root / "usr/bin/python3").unlink()
    (root / "usr/bin/python3").symlink_to("python3.6")
    subprocess.run(["chroot", str(root), "ldconfig"], check=True, capture_output=True)
    check = subprocess.run(["chroot", str(root), "/usr/bin/python3", "-c",
                            "import sys, ssl, sqlite3, json; print(sys.version_info[:2])"],
                           capture_output=True, text=True)
    if check.stdout.strip() != "(3, 6)":
        raise RuntimeError(f"python3 in the e2e root is not a working 3.6: {check.stderr}")


def _prune(keep: Path) -> None:
    """Delete trees of older recipes (560 MB each) that no running container has mounted."""
    mounts = Path("/proc/self/mountinfo").read_text()
    for old in BASE.glob("rootfs-*"):
        if old != keep and old.is_dir() and f"lowerdir={old}," not in mounts \
                and f"lowerdir={old} " not in mounts:
            shutil.rmtree(old, ignore_errors=True)


#: The managed hosts of the rollout test also run sshd (and sudo for the seed's app user).
SSH_PACKAGES = ("openssh-server", "sudo")


def ensure_ssh_rootfs() -> Path:
    """The cached root plus openssh-server and sudo, as a tree of its own (a copy of the
    base tree, apt-get inside; cached under ``sshroot-<key>``, a name the base tree's
    pruning leaves alone)."""
    base = ensure_rootfs()
    key = hashlib.sha256("\n".join([recipe_key(), post_key(), *SSH_PACKAGES]).encode()
                         ).hexdigest()[:12]
    root = BASE / f"sshroot-{key}"
    if (root / ".complete").exists():
        return root
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(tmp)], check=True,
                   capture_output=True, timeout=900)
    shutil.copy2("/etc/resolv.conf", tmp / "etc/resolv.conf")
    proc = subprocess.run(
        ["chroot", str(tmp), "/bin/sh", "-ec",
         "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && "
         f"apt-get install -y -qq --no-install-recommends {' '.join(SSH_PACKAGES)} && "
         "rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb && "
         "systemctl enable ssh.service"],
        capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(f"apt-get install {' '.join(SSH_PACKAGES)}: {proc.stderr[-3000:]}")
    (tmp / ".complete").write_text(key + "\n")
    tmp.rename(root)
    mounts = Path("/proc/self/mountinfo").read_text()
    for old in BASE.glob("sshroot-*"):
        if old != root and f"lowerdir={old}" not in mounts:
            shutil.rmtree(old, ignore_errors=True)
    return root

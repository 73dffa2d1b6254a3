"""Helpers around the real ``rpm`` tool and scratch install roots, shared by test modules."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

#: Lines Debian's rpm prints on every install/erase; not errors.
_DEBIAN_NOISE = ("RPM should not be used directly", "However assuming you know what you are doing")


def run_rpm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(["rpm", *args], capture_output=True, text=True)
    r.stderr = "\n".join(line for line in r.stderr.splitlines()
                         if not any(n in line for n in _DEBIAN_NOISE))
    if check and r.returncode != 0:
        raise AssertionError(
            f"rpm {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def query(rpm_path: Path, *args: str) -> list[str]:
    return run_rpm("-qp", *args, str(rpm_path)).stdout.splitlines()


#: Host programs copied into a scratch root so scriptlets can run chrooted there.
_PROGRAMS = ["/bin/sh", "/usr/bin/getent", "/usr/sbin/useradd", "/usr/sbin/groupadd",
             "/usr/sbin/userdel", "/usr/sbin/groupdel", "/usr/bin/install"]


def make_scratch_root(root: Path) -> Path:
    """A minimal root in which rpm can run scriptlets that create users (dash + shadow tools).

    Built from the host's own binaries and the libraries ``ldd`` names, with busybox for the
    small utilities (cat, mkdir, ...). Seconds to build, no network.
    """
    for d in ("bin", "usr/bin", "usr/sbin", "etc/default", "tmp", "dev", "var/lib/rpm"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    libs: set[str] = set()
    for prog in _PROGRAMS:
        real = os.path.realpath(prog)
        _copy(real, root / prog.lstrip("/"))
        out = subprocess.run(["ldd", real], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
            if path.startswith("/"):
                libs.add(path)
    for lib in libs:
        _copy(os.path.realpath(lib), root / lib.lstrip("/"))
    busybox = shutil.which("busybox")
    assert busybox, "busybox-static is needed (scripts/apt-packages.txt)"
    _copy(busybox, root / "bin/busybox")
    for applet in ("cat", "echo", "mkdir", "rm", "ls", "chmod", "chown", "touch", "id", "sed",
                   "grep", "true", "false", "test", "["):
        link = root / "bin" / applet
        if not link.exists():
            link.symlink_to("busybox")
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\n")
    (root / "etc/shadow").write_text("root:*:19000:0:99999:7:::\n")
    (root / "etc/gshadow").write_text("root:*::\n")
    (root / "etc/login.defs").write_text(
        "SYS_UID_MIN 201\nSYS_UID_MAX 999\nSYS_GID_MIN 201\nSYS_GID_MAX 999\n"
        "UID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\n")
    (root / "etc/nsswitch.conf").write_text("passwd: files\ngroup: files\nshadow: files\n")
    devnull = root / "dev/null"
    if not devnull.exists():
        subprocess.run(["mknod", "-m", "666", str(devnull), "c", "1", "3"], check=True)
    run_rpm("--root", str(root), "--dbpath", "/var/lib/rpm", "--initdb")
    return root


def _copy(src: str, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        shutil.copy2(src, dst)


def rpm_in_root(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_rpm("--root", str(root), "--dbpath", "/var/lib/rpm", *args, check=check)


def uid_of(root: Path, user: str) -> int:
    for line in (root / "etc/passwd").read_text().splitlines():
        f = line.split(":")
        if f[0] == user:
            return int(f[2])
    raise KeyError(user)

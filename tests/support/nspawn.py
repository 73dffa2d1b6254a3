"""A cgroup of its own for each systemd-nspawn container the tests boot.

This host's PID 1 is not systemd, so the containers run with ``--register=no --keep-unit``:
nspawn then keeps the cgroup it was started in, and (nspawn 252, cgroup v1) makes
``payload`` and ``supervisor`` children of it. Every container started from the pytest
process got the same ``/payload``, so the systemds of containers booted side by side made
and removed each other's ``/payload/system.slice/<unit>.service``: a unit that started
while a sibling booted failed at the CGROUP step ("Failed to attach to cgroup ...: No such
file or directory", status 219). Measured here: 7 of 36 boots, three at a time. When the
unit was ``systemd-user-sessions.service``, ``/run/nologin`` stayed and sshd let no user but
root in, which failed every rollout test of one CI run. A child cgroup per container
(``fate-e2e-<name>`` under ours, in the unified tree and in ``name=systemd``) gives each
systemd a tree no other one touches.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

PREFIX = "fate-e2e-"


#: The hierarchies nspawn places a container by, as /proc/PID/cgroup names them: cgroup v1's
#: ``name=systemd`` and the unified tree ("", which nspawn 252 reads first even on v1).
HIERARCHIES = ("name=systemd", "")


def cgroups_in(text: str) -> dict[str, str]:
    """The cgroup path in each of HIERARCHIES a /proc/PID/cgroup ``text`` lists."""
    paths = {}
    for line in text.splitlines():
        _id, controllers, path = line.split(":", 2)
        if controllers in HIERARCHIES:
            paths[controllers] = path
    return paths


def cgroups_of(pid: object = "self") -> dict[str, str]:
    """The process's cgroup path in each of HIERARCHIES it is in."""
    return cgroups_in(Path(f"/proc/{pid}/cgroup").read_text())


def _hierarchies() -> list[Path]:
    """Our cgroup's directory in each of HIERARCHIES that is mounted."""
    ours = cgroups_of()
    found: dict[str, Path] = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, _, rest = line.partition(" - ")
        fstype, _source, options = rest.split(" ", 2)
        root, mount = fields.split(" ")[3:5]
        if fstype == "cgroup2":
            key = ""
        elif fstype == "cgroup" and "name=systemd" in options.split(","):
            key = "name=systemd"
        else:
            continue
        if key in ours and key not in found and ours[key].startswith(root):
            found[key] = Path(mount) / ours[key][len(root):].lstrip("/")
    return [found[key] for key in HIERARCHIES if key in found]


def own_cgroup(name: str) -> list[Path]:
    """A fresh child cgroup for container ``name`` in each hierarchy (none on a host
    without cgroups)."""
    made = []
    for parent in _hierarchies():
        cgroup = parent / f"{PREFIX}{name}"
        remove([cgroup])      # a run killed before its cleanup left it, with its old tree
        cgroup.mkdir()
        made.append(cgroup)
    return made


def argv_in(cgroups: list[Path], argv: list[str]) -> list[str]:
    """``argv`` run from inside ``cgroups``: the shell moves itself in, then becomes argv."""
    moves = "".join(f"echo $$ > {shlex.quote(str(c / 'cgroup.procs'))} && " for c in cgroups)
    return ["/bin/sh", "-c", f'{moves}exec "$@"', "sh", *argv] if cgroups else argv


def remove(cgroups: list[Path]) -> None:
    """The cgroups and what the container's systemd left under them, deepest first; a
    cgroup that still holds a process stays (rmdir refuses it), as the kernel wants."""
    for cgroup in cgroups:
        for top, _dirs, _files in os.walk(cgroup, topdown=False):
            try:
                os.rmdir(top)
            except OSError:
                pass

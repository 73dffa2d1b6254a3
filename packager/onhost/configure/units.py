"""Enable this host's units, disable the others, restart what changed.

``systemctl --root=DIR enable`` works on a tree without a running systemd (image
builds, tests); on a live host plain ``systemctl`` is used. Units of services whose
RPM is not installed are left alone when disabling, and a missing unit for a wanted
service is reported before anything changes.
"""

import os
import subprocess
from typing import Callable, List, Sequence, Tuple

from packager.onhost import catalogue, systemctl

from . import paths
from .errors import ApplyError
from .paths import Root

GROUP_TARGET = "fate.target"


def installed(root: Root) -> Tuple[str, ...]:
    """fate-* unit names (without .service) whose unit file exists under ``root``."""
    names: List[str] = []
    for service in catalogue.load():
        unit = service.unit
        if any(os.path.exists(root(f"{d}/{unit}.service")) for d in paths.UNIT_DIRS):
            names.append(unit)
    return tuple(names)


def _systemctl(root: Root, *args: str) -> subprocess.CompletedProcess:
    try:
        return systemctl.run(*args, root=None if root.is_live else root.root)
    except systemctl.SystemctlError as exc:
        raise ApplyError(str(exc)) from None


def is_enabled(root: Root, name: str) -> bool:
    """``name`` is a full unit name (``fate-flow.service``, ``fate.target``)."""
    return _systemctl(root, "is-enabled", name).stdout.strip() == "enabled"


def converge(root: Root, enable: Sequence[str], disable: Sequence[str], dry_run: bool,
             report: Callable[[str], None]) -> List[str]:
    """Bring unit enablement to the plan; returns the changes made (or that would be)."""
    changes: List[str] = []
    for unit in enable:
        if not is_enabled(root, unit + ".service"):
            changes.append("enable " + unit)
            if not dry_run:
                proc = _systemctl(root, "enable", unit + ".service")
                if proc.returncode != 0:
                    raise ApplyError(f"systemctl enable {unit} failed: {proc.stdout.strip()}")
    group = root("/usr/lib/systemd/system/" + GROUP_TARGET)
    if enable and os.path.exists(group) and not is_enabled(root, GROUP_TARGET):
        changes.append("enable fate.target")
        if not dry_run:
            _systemctl(root, "enable", GROUP_TARGET)
    for unit in disable:
        if is_enabled(root, unit + ".service"):
            changes.append("disable " + unit)
            if not dry_run:
                proc = _systemctl(root, "disable", unit + ".service")
                if proc.returncode != 0:
                    raise ApplyError(f"systemctl disable {unit} failed: {proc.stdout.strip()}")
    for change in changes:
        report(("would " if dry_run else "") + change)
    return changes


def restart(root: Root, units: Sequence[str], systemd: bool, report: Callable[[str], None]
            ) -> List[str]:
    """Restart ``units`` in start order; only on a live host where systemd runs."""
    if not units:
        return []
    if not (systemd and root.is_live):
        report("not restarting {} (no running systemd here)".format(" ".join(units)))
        return []
    done: List[str] = []
    for unit in units:
        proc = _systemctl(root, "restart", unit + ".service")
        if proc.returncode != 0:
            raise ApplyError(f"systemctl restart {unit} failed: {proc.stdout.strip()}")
        report("restarted " + unit)
        done.append(unit)
    return done

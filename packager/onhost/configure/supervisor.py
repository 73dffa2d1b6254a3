"""``--init supervisor``: program files for hosts that run supervisord instead of systemd.

The program definitions come from the units' single source of truth
(``packager.onhost.services``, rendered from ``units/services.yaml``), fed with the env
files this plan writes, so a supervisor host runs exactly the command line a systemd
host runs. Files go where ansible-nfate 1.4.x kept them
(``/data/projects/common/supervisord/supervisord.d/fate-<module>.conf``).
"""

import os
import shutil
import subprocess
import tempfile
from typing import Callable, List, Sequence, Tuple

from . import paths
from .errors import ApplyError, ConfigError
from .model import SERVICES
from .paths import Root
from .plan import FileSpec, Plan

SUPERVISORD_CONF = paths.SUPERVISOR_HOME + "/supervisord.conf"


def program_files(plan: Plan, account: Tuple[str, str]) -> List[FileSpec]:
    """FileSpecs of this host's supervisor programs, rendered from the planned env files."""
    try:
        from packager.onhost import services as definitions
    except ImportError:
        raise ConfigError("--init supervisor needs packager/onhost/services.py (the fate-tools "
                          "units module); reinstall fate-tools") from None
    env_specs = [f for f in plan.files if f.path.startswith(paths.ENV_DIR + "/")]
    scratch = tempfile.mkdtemp(prefix="fate-configure-env-")
    try:
        for spec in env_specs:
            with open(os.path.join(scratch, os.path.basename(spec.path)), "w",
                      encoding="utf-8") as handle:
                handle.write(spec.content)
        try:
            rendered = definitions.render_supervisor(list(plan.services), scratch, account)
        except (definitions.ServiceDefinitionError, OSError) as exc:
            raise ConfigError(f"supervisor programs: {exc}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    by_program = {SERVICES[s]["program"] + ".conf": SERVICES[s]["unit"] for s in plan.services}
    return [FileSpec(f"{paths.SUPERVISOR_PROGRAMS}/{name}", text, 0o644, "root", "root",
                     (by_program.get(name, ""),))
            for name, text in sorted(rendered.items())]


def stale_programs(plan: Plan) -> Tuple[str, ...]:
    return tuple("{}/{}.conf".format(paths.SUPERVISOR_PROGRAMS, SERVICES[s]["program"])
                 for s in SERVICES if s not in plan.services)


def restart(root: Root, units: Sequence[str], report: Callable[[str], None]) -> None:
    """``supervisorctl update`` then restart the changed programs (live host only)."""
    programs = [SERVICES[s]["program"] for s in SERVICES if SERVICES[s]["unit"] in units]
    if not programs:
        return
    ctl = shutil.which("supervisorctl")
    if not root.is_live or ctl is None:
        report("not restarting {} (no supervisorctl here)".format(" ".join(programs)))
        return
    for args in (["update"], ["restart"] + programs):
        proc = subprocess.run([ctl, "-c", SUPERVISORD_CONF] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, check=False)  # noqa: UP021 (3.6)
        if proc.returncode != 0:
            raise ApplyError("supervisorctl {} failed: {}".format(" ".join(args),
                                                                  proc.stdout.strip()))
    report("restarted " + " ".join(programs))

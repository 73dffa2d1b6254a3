"""``--init supervisor``: program files for hosts that run supervisord instead of systemd.

The program definitions come from the service catalogue (``units/services.yaml``,
rendered by ``packager.onhost.services``), fed with the env files this plan writes, so
a supervisor host runs exactly the command line a systemd host runs. Files go where
ansible-nfate 1.4.x kept them
(``/data/projects/common/supervisord/supervisord.d/fate-<module>.conf``).
"""

import os
import shutil
import subprocess
from typing import Callable, List, Sequence, Tuple

from packager.onhost import catalogue, services

from . import paths
from .errors import ApplyError, ConfigError
from .paths import Root
from .plan import FileSpec, Plan

SUPERVISORD_CONF = paths.SUPERVISOR_HOME + "/supervisord.conf"


def program_files(plan: Plan, account: Tuple[str, str]) -> List[FileSpec]:
    """FileSpecs of this host's supervisor programs, rendered from the planned env files."""
    env_files = {os.path.basename(f.path): f.content for f in plan.files
                 if f.path.startswith(paths.ENV_DIR + "/")}
    try:
        rendered = services.render_supervisor(list(plan.services), env_files, account)
    except catalogue.ServiceDefinitionError as exc:
        raise ConfigError(f"supervisor programs: {exc}") from None
    by_program = {catalogue.get(s).program + ".conf": catalogue.get(s).unit
                  for s in plan.services}
    return [FileSpec(f"{paths.SUPERVISOR_PROGRAMS}/{name}", text, 0o644, "root", "root",
                     (by_program.get(name, ""),))
            for name, text in sorted(rendered.items())]


def stale_programs(plan: Plan) -> Tuple[str, ...]:
    return tuple(f"{paths.SUPERVISOR_PROGRAMS}/{s.program}.conf"
                 for s in catalogue.load() if s.name not in plan.services)


def restart(root: Root, units: Sequence[str], report: Callable[[str], None]) -> None:
    """``supervisorctl update`` then restart the changed programs (live host only)."""
    programs = [s.program for s in catalogue.load() if s.unit in units]
    if not programs:
        return
    ctl = shutil.which("supervisorctl")
    if not root.is_live or ctl is None:
        report("not restarting {} (no supervisorctl here)".format(" ".join(programs)))
        return
    for args in (["update"], ["restart"] + programs):
        proc = subprocess.run([ctl, "-c", SUPERVISORD_CONF] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, encoding="utf-8", errors="replace",
                              check=False)
        if proc.returncode != 0:
            raise ApplyError("supervisorctl {} failed: {}".format(" ".join(args),
                                                                  proc.stdout.strip()))
    report("restarted " + " ".join(programs))

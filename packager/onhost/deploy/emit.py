"""Write the plain Ansible files of one deployment: ``ansible.cfg``, ``hosts.ini``,
``group_vars/all.yml``, ``host_vars/<address>.yml``, ``site.yml`` and ``roles/``.

The roles are static files shipped beside this module; what differs per party (hosts,
their packages and ports, the start stages of the catalogue) is inventory and variables,
and ``site.yml`` has one play per start stage, so an Ansible user reads the rollout order
in the playbook itself.
"""

import os
import shutil
from typing import Dict, List, NamedTuple, Optional

import yaml

from .inventory import Connection, OperatorInventory, connection_vars, render
from .plan import DeployPlan

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "roles")
#: Where the bundle goes on every host.
REMOTE_DIR = "/var/lib/fate-deploy"
HEADER = ("Written by fate-deploy from {party}. Run it with: ansible-playbook site.yml\n"
          "(from this directory; ansible.cfg points at hosts.ini and roles/)")


class Settings(NamedTuple):
    party_file: str          # absolute path of the party YAML on the controller
    bundle_tars: Dict[str, str]  # per host: its tar of the bundle on the controller
    bundle_name: str         # its top directory
    secrets: str             # controller path of the MySQL host's secrets.yaml (0600)
    need_kib: Dict[str, int]  # per host: disk the bundle and its RPMs need
    account: str = "app"
    retired: Optional[Dict[str, List[str]]] = None  # hosts that left: address -> units
    known_cpus: Optional[Dict[str, int]] = None   # nodemanager host -> CPUs, last runs'


#: fate-configure's --cores-per-node: the smallest CPU count of the nodemanager hosts, each
#: from this run's pre-flight (``fate_cpus``) or, for a host outside ``--limit``, from the
#: last run's (``fate_known_cpus``); empty when none is known.
CORES_FLAG = (
    "{%- set found = [] -%}"
    "{%- for h in fate_nodemanagers -%}"
    "{%- if (hostvars[h].fate_cpus | default(0) | int) > 0 -%}"
    "{%- set _ = found.append(hostvars[h].fate_cpus | int) -%}"
    "{%- elif (fate_known_cpus[h] | default(0) | int) > 0 -%}"
    "{%- set _ = found.append(fate_known_cpus[h] | int) -%}"
    "{%- endif -%}{%- endfor -%}"
    "{{ ('--cores-per-node %d' % (found | min)) if found else '' }}")

ANSIBLE_CFG = """\
# fate-deploy: Ansible settings of this directory (ansible 2.9 and later).
[defaults]
inventory = hosts.ini
roles_path = roles
retry_files_enabled = False
interpreter_python = auto_silent
forks = 20
timeout = 20

[ssh_connection]
# one ssh connection per host for the whole run (and the next run within a minute), each
# module piped into it; no -C: the RPMs are compressed already, ssh would only burn CPU
ssh_args = -o ControlMaster=auto -o ControlPersist=60s
pipelining = True
"""


def _dump(path: str, data: object, header: str = "") -> None:
    with open(path, "w", encoding="utf-8") as handle:
        if header:
            handle.write("".join(f"# {line}\n" for line in header.splitlines()))
        yaml.safe_dump(data, handle, default_flow_style=False, sort_keys=False)


def _play(name: str, hosts: str, roles: list, fatal: bool = True) -> dict:
    """One play: no fact gathering (nothing reads facts), root through become, and the
    whole run stops at the first failing host (``any_errors_fatal``) except where a play
    must see every host (pre-flight, report)."""
    play = {"name": name, "hosts": hosts, "gather_facts": False, "become": True}
    if fatal:
        play["any_errors_fatal"] = True
    play["roles"] = roles
    return play


def plays(plan: DeployPlan, retired: bool) -> List[dict]:
    """site.yml: pre-flight, install, MySQL host first, the others, stages, report."""
    out = [
        _play("pre-flight on every host (nothing is changed anywhere before it passes)",
              "fate", ["fate_preflight"], fatal=False),
        _play("install each host's packages from the bundle (install.sh)", "fate",
              ["fate_install"]),
    ]
    if plan.mysql_host:
        out.append(_play("configure the MySQL host first and fetch its secrets", "fate_mysql",
                         [{"role": "fate_configure"},
                          {"role": "fate_secrets", "fate_secrets_role": "source"}]))
        out.append(_play("place the secrets and configure the other hosts", "fate:!fate_mysql",
                         [{"role": "fate_secrets", "fate_secrets_role": "copy"},
                          {"role": "fate_configure"}]))
    else:
        out.append(_play("configure every host", "fate", ["fate_configure"]))
    if retired:
        out.append(_play("stop the services of hosts that left the party", "fate_retired",
                         ["fate_retire"]))
    for stage in plan.stages:
        out.append(_play("start stage {}: {}".format(stage.number, ", ".join(stage.services)),
                         f"fate_stage{stage.number}",
                         [{"role": "fate_start", "fate_stage": stage.number}]))
    out.append(_play("status of every host, the toy example on fate_flow's", "fate",
                     ["fate_report"], fatal=False))
    return out


def emit(out_dir: str, plan: DeployPlan, settings: Settings, conn: Connection,
         operator: Optional[OperatorInventory]) -> List[str]:
    """Write the files into ``out_dir`` (made 0700: the inventory may hold a become
    password); returns the paths written."""
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    os.chmod(out_dir, 0o700)
    written: List[str] = []
    roles = os.path.join(out_dir, "roles")
    shutil.rmtree(roles, ignore_errors=True)
    shutil.copytree(ROLES, roles, ignore=shutil.ignore_patterns("__pycache__"))
    written.append(roles + "/")
    retired = settings.retired or {}
    groups: Dict[str, List[str]] = {"fate": [h.address for h in plan.hosts]}
    if plan.mysql_host:
        groups["fate_mysql"] = [plan.mysql_host]
    if plan.flow_host:
        groups["fate_flow"] = [plan.flow_host]
    for stage in plan.stages:
        groups[f"fate_stage{stage.number}"] = list(stage.hosts)
    groups["fate_retired"] = sorted(retired)
    groups["controller"] = ["localhost"]
    host_vars: Dict[str, Dict[str, str]] = {"localhost": {
        "ansible_connection": "local", "ansible_become": "false",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}
    if operator is not None:
        for address in groups["fate"] + groups["fate_retired"]:
            host_vars[address] = dict(operator.host_vars.get(address, {}))
    path = os.path.join(out_dir, "hosts.ini")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render(groups, host_vars, connection_vars(conn, operator),
                            HEADER.format(party=settings.party_file)))
    os.chmod(path, 0o600)
    written.append(path)
    os.makedirs(os.path.join(out_dir, "group_vars"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "host_vars"), exist_ok=True)
    path = os.path.join(out_dir, "group_vars", "all.yml")
    _dump(path, {
        "fate_party_file": settings.party_file,
        "fate_bundle_name": settings.bundle_name,
        "fate_remote_dir": REMOTE_DIR,
        "fate_secrets_local": settings.secrets,
        "fate_mysql_host": plan.mysql_host,
        "fate_account": settings.account,
        "fate_run_toy": False,
        "fate_nodemanagers": plan.nodemanagers,
        "fate_known_cpus": {a: n for a, n in (settings.known_cpus or {}).items()
                            if a in plan.nodemanagers},
        "fate_cores_flag": CORES_FLAG,
    }, "Settings of every host (fate-deploy); host_vars/ has each host's part.")
    written.append(path)
    for host in plan.hosts:
        path = os.path.join(out_dir, "host_vars", f"{host.address}.yml")
        _dump(path, {
            "fate_address": host.address,
            "fate_services": host.services,
            "fate_packages": host.packages,
            "fate_bundle_tar": settings.bundle_tars[host.address],
            "fate_ports": host.ports,
            "fate_need_kib": settings.need_kib.get(host.address, 0),
            "fate_stage_units": {str(k): v for k, v in host.stage_units.items()},
            "fate_stage_ports": {str(k): v for k, v in host.stage_ports.items()},
            "fate_run_toy": host.address == plan.flow_host,
        })
        written.append(path)
    for address, old_units in retired.items():
        path = os.path.join(out_dir, "host_vars", f"{address}.yml")
        _dump(path, {"fate_address": address, "fate_retired_units": old_units})
        written.append(path)
    path = os.path.join(out_dir, "site.yml")
    _dump(path, plays(plan, bool(retired)), HEADER.format(party=settings.party_file))
    written.append(path)
    path = os.path.join(out_dir, "ansible.cfg")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(ANSIBLE_CFG)
    written.append(path)
    return written

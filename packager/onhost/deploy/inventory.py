"""The inventory: the party's addresses, with ssh and become settings from flags or from
the operator's own inventory (the seed's ``environments/prod/hosts``: ``[fate]``,
``[deploy_check]``, ``[all:vars]`` with ``ansible_ssh_user``, ``ansible_become_*``), which
are kept as they are written."""

import re
import shlex
from typing import Dict, List, NamedTuple, Optional

#: Groups of the seed's inventory that name party hosts and the control host.
PARTY_GROUPS = ("fate",)
CONTROL_GROUPS = ("deploy_check",)
_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")


class InventoryError(ValueError):
    """The operator's inventory cannot be read; the message names file and line."""

    exit_code = 2


class OperatorInventory(NamedTuple):
    all_vars: Dict[str, str]        # [all:vars] (and [fate:vars])
    host_vars: Dict[str, Dict[str, str]]  # per host line: name -> its key=value pairs
    party_hosts: List[str]          # hosts of [fate]
    controllers: List[str]          # hosts of [deploy_check]


def _pairs(words: List[str], where: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise InventoryError(f"{where}: expected key=value, got {word!r}")
        out[key] = value
    return out


def read_inventory(path: str) -> OperatorInventory:
    """An INI inventory in the seed's shape; other groups and their hosts are kept too."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read: {exc.strerror}") from None
    all_vars: Dict[str, str] = {}
    host_vars: Dict[str, Dict[str, str]] = {}
    groups: Dict[str, List[str]] = {}
    section = "ungrouped"
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip() if not raw.lstrip().startswith(
            ("#", ";")) else ""
        if not line:
            continue
        where = f"{path}:{number}"
        match = _SECTION.match(line)
        if match:
            section = match.group(1).strip()
            continue
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise InventoryError(f"{where}: {exc}") from None
        if section.endswith(":vars"):
            if section in ("all:vars",) + tuple(g + ":vars" for g in PARTY_GROUPS):
                all_vars.update(_pairs(words, where))
            continue
        if section.endswith(":children"):
            continue
        host, rest = words[0], words[1:]
        groups.setdefault(section, []).append(host)
        host_vars.setdefault(host, {}).update(_pairs(rest, where))
    party = [h for g in PARTY_GROUPS for h in groups.get(g, [])]
    control = [h for g in CONTROL_GROUPS for h in groups.get(g, [])]
    return OperatorInventory(all_vars, host_vars, party, control)


class Connection(NamedTuple):
    """ssh/become settings from the command line (None = not given)."""

    user: Optional[str] = None
    port: Optional[int] = None
    become: Optional[bool] = None
    become_method: Optional[str] = None
    private_key: Optional[str] = None
    ssh_args: Optional[str] = None


def connection_vars(conn: Connection, operator: Optional[OperatorInventory]) -> Dict[str, str]:
    """[all:vars] of the written inventory: the operator's, then the flags over them."""
    out: Dict[str, str] = {"ansible_connection": "ssh"}
    if operator is not None:
        out.update(operator.all_vars)
    flags = {
        "ansible_user": conn.user,
        "ansible_port": None if conn.port is None else str(conn.port),
        "ansible_become_method": conn.become_method,
        "ansible_ssh_private_key_file": conn.private_key,
        "ansible_ssh_common_args": conn.ssh_args,
    }
    for key, value in flags.items():
        if value is not None:
            # the flag wins over the seed's spelling of the same setting
            for alias in {"ansible_user": ("ansible_ssh_user",),
                          "ansible_port": ("ansible_ssh_port",)}.get(key, ()):
                out.pop(alias, None)
            out[key] = value
    user = out.get("ansible_user") or out.get("ansible_ssh_user") or "root"
    if conn.become is not None:
        out["ansible_become"] = "true" if conn.become else "false"
    elif "ansible_become" not in out:
        out["ansible_become"] = "false" if user == "root" else "true"
    return out


def ini_value(value: str) -> str:
    return value if value and re.match(r"^[A-Za-z0-9_./:@=,+-]+$", value) else \
        '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(groups: Dict[str, List[str]], host_vars: Dict[str, Dict[str, str]],
           all_vars: Dict[str, str], header: str) -> str:
    """INI text: one section per group, host lines with their own vars, [all:vars]."""
    out = [f"# {line}" if line else "#" for line in header.splitlines()]
    for group, hosts in groups.items():
        out.append("")
        out.append(f"[{group}]")
        for host in hosts:
            pairs = " ".join(f"{k}={ini_value(v)}" for k, v in sorted(host_vars.get(host, {})
                                                                      .items()))
            out.append(f"{host} {pairs}".rstrip())
    out.append("")
    out.append("[all:vars]")
    out.extend(f"{k}={ini_value(v)}" for k, v in sorted(all_vars.items()))
    return "\n".join(out) + "\n"

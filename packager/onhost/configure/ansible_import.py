"""``import-ansible``: an ansible-nfate 1.4.x var file -> a party YAML.

The party YAML keeps the var files' keys, so the conversion is mostly a copy: the
party section (``guest:``, ``host:`` or ``exchange:``) is kept key by key where the
schema knows the key, the MySQL root password comes from ``fate_init``'s
``mysql.passwd``, and everything fate-configure decides itself (paths from
``base_init``, versions from ``fate_init``) is dropped with a note saying why.
The result is validated before it is printed, so a broken var file fails here.
"""

import os
from typing import Any, Dict, List, Sequence, Tuple

import yaml

from packager.onhost import yamlfile

from .errors import ConfigError
from .loader import load_text
from .schema import load_schema, resolve, validate_schema

# Passwords published in the seed's templates: kept (an existing MySQL uses them), but
# the operator is told to replace them.
PUBLIC_DEFAULTS = ("fate_deV2999", "password", "fatE168dev", "fate_dev", "fate")
LAYOUT = {"pbase": "/data/projects", "lbase": "/data/logs", "pname": "fate"}


def _read(path: str) -> Any:
    try:
        return yamlfile.read(path)
    except yamlfile.YamlFileError as exc:  # fate-configure's format: ``file:line what``
        raise ConfigError(f"{exc.source}:{exc.line or 1} {exc.problem}") from None


def _keep(value: Any, node: Dict[str, Any], path: str, notes: List[str]) -> Any:
    """Copy ``value`` keeping only keys the schema knows; note the dropped ones."""
    node = resolve(node)
    if isinstance(value, dict) and "properties" in node:
        out = {}
        for key, sub in value.items():
            if key in node["properties"]:
                out[key] = _keep(sub, node["properties"][key], path + "." + str(key), notes)
            else:
                notes.append(f"{path}.{key}: not used by fate-configure, dropped")
        return out
    if isinstance(value, list) and "items" in node:
        return [_keep(item, node["items"], f"{path}[{i}]", notes)
                for i, item in enumerate(value)]
    return value


def import_ansible(var_file: str, extra: Sequence[str]) -> Tuple[str, List[str]]:
    """(party YAML text, notes for the operator)."""
    data = _read(var_file)
    schema = load_schema()
    roles = [k for k in (data or {}) if k in schema["properties"]] if isinstance(data, dict) \
        else []
    if len(roles) != 1:
        raise ConfigError(f"{var_file}: expected one of the keys guest:, host: or exchange: (an "
                          "ansible-nfate fate_guest / fate_host / fate_exchange file)")
    role = roles[0]
    notes: List[str] = []
    party = _keep(data[role], schema["properties"][role], role, notes)
    for path in extra:
        more = _read(path)
        if not isinstance(more, dict):
            raise ConfigError(f"{path}: expected a mapping of ansible variables")
        name = os.path.basename(path)
        mysql = more.get("mysql")
        if isinstance(mysql, dict) and mysql.get("passwd") and role != "exchange":
            party.setdefault("mysql", {})["root_passwd"] = str(mysql["passwd"])
        for key, want in sorted(LAYOUT.items()):
            if key in more and more[key] != want:
                notes.append(f"{name}: {key}={more[key]} differs from the packaged layout "
                             f"({want}); fate-configure "
                             "uses the packaged paths")
        version = more.get("mversion")
        if version is not None and str(version) != "1.4.5":
            notes.append(f"{name}: mversion {version} but this fate-configure renders FATE 1.4.5")
    if role != "exchange":
        for key in ("dbpasswd", "root_passwd"):
            value = (party.get("mysql") or {}).get(key)
            if value in PUBLIC_DEFAULTS:
                notes.append(f"{role}.mysql.{key}: the seed's published default password; remove "
                             f"it "
                             "to have a strong one generated (kept for an existing MySQL)")
    header = ("# Converted by `fate-configure import-ansible` from {}.\n"
              "# Check it, then run `fate-configure party.yaml` on each host of the party.\n"
              .format(", ".join([var_file] + list(extra))))
    text = header + yaml.safe_dump({role: party}, default_flow_style=False, sort_keys=False)
    doc = load_text(text, f"<converted {os.path.basename(var_file)}>")
    _, errors = validate_schema(doc)
    if errors:
        raise ConfigError([f"{e} (converted from {var_file})" for e in errors])
    return text, notes

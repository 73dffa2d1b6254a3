"""Passwords: given in the party YAML, else kept in /etc/fate/secrets.yaml, else generated.

The seed shipped fixed passwords (``fate_deV2999``) in its var files; here none is
required. The MySQL host generates strong random ones on its first run and keeps them
in ``/etc/fate/secrets.yaml`` (0600 root) so later runs reuse them. Other hosts of the
party log in to that MySQL, so they cannot invent their own: they need the password
in the YAML or a copy of the MySQL host's secrets file, and are told so.
"""

import secrets as _random
from typing import Dict, List, Optional, Tuple

import yaml

from .errors import ConfigError
from .loader import Document, format_path
from .model import Party
from .paths import SECRETS, Root

Secrets = Dict[str, str]
KEYS = {"mysql_root": "root_passwd", "mysql_fate": "dbpasswd"}


def generate() -> str:
    """32 URL-safe characters (192 bits): safe in properties, YAML, JSON and shell."""
    return _random.token_urlsafe(24)


def load(root: Root) -> Optional[Secrets]:
    """The stored secrets, or None when the file does not exist yet."""
    try:
        with open(root(SECRETS), encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        return None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{SECRETS}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{SECRETS}: expected `key: value` lines")
    return {str(k): str(v) for k, v in data.items() if v is not None}


def dump(values: Secrets) -> str:
    header = ("# Written by fate-configure: passwords it generated or was given.\n"
              "# Copy this file (0600 root) to every host of the party.\n")
    return header + yaml.safe_dump(dict(sorted(values.items())), default_flow_style=False)


def resolve(doc: Document, party: Party, services: List[str], stored: Optional[Secrets]
            ) -> Tuple[Secrets, bool]:
    """(passwords this host needs, whether secrets.yaml must be (re)written)."""
    stored = dict(stored or {})
    out = dict(stored)
    if party.is_exchange:
        return out, False
    runs_mysql = "mysql" in services
    # eggroll.properties (identical on every host of the party) carries the JDBC password,
    # so every host of a training party needs it, not only those that log in.
    needs_db = bool(services)
    for name, key in sorted(KEYS.items()):
        given = party.get("mysql", key)
        if given:
            out[name] = given
        elif name not in out:
            wanted = runs_mysql if name == "mysql_root" else needs_db
            if not wanted:
                continue
            if not runs_mysql:
                path = party.path("mysql") + (key,)
                ip = party.first_ip("mysql") or "the MySQL host"
                raise ConfigError(f"{doc.where(path)} {format_path(path)}: not set and {SECRETS} "
                                  f"holds no {name}: copy {SECRETS} from {ip} or set it in "
                                  "the party YAML")
            out[name] = generate()
    return out, out != stored

"""What the last successful run deployed (``<workdir>/deployed.json``: address -> units),
so that a host removed from the party YAML is stopped on the next run."""

import json
import os
from typing import Dict, List

FILE = "deployed.json"


def load(workdir: str) -> Dict[str, List[str]]:
    try:
        with open(os.path.join(workdir, FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    hosts = data.get("hosts") if isinstance(data, dict) else None
    return {str(k): [str(u) for u in v] for k, v in (hosts or {}).items()}


def save(workdir: str, hosts: Dict[str, List[str]]) -> None:
    path = os.path.join(workdir, FILE)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump({"hosts": hosts}, handle, indent=2, sort_keys=True)
    os.replace(path + ".tmp", path)

"""What the last successful run deployed (``<workdir>/deployed.json``): address -> units,
so that a host removed from the party YAML is stopped on the next run, and the CPU count
of each nodemanager host, so that a ``--limit`` run that does not reach them still sizes
eggroll's sessions for them."""

import json
import os
from typing import Dict, List, NamedTuple

FILE = "deployed.json"


class Deployed(NamedTuple):
    hosts: Dict[str, List[str]]   # address -> its fate-* units
    cpus: Dict[str, int]          # nodemanager address -> CPUs, as its pre-flight counted


def load(workdir: str) -> Deployed:
    try:
        with open(os.path.join(workdir, FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return Deployed({}, {})
    data = data if isinstance(data, dict) else {}
    hosts = data.get("hosts") or {}
    cpus = data.get("cpus") or {}
    return Deployed({str(k): [str(u) for u in v] for k, v in hosts.items()},
                    {str(k): int(v) for k, v in cpus.items() if str(v).isdigit()})


def save(workdir: str, deployed: Deployed) -> None:
    path = os.path.join(workdir, FILE)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(deployed._asdict(), handle, indent=2, sort_keys=True)
    os.replace(path + ".tmp", path)

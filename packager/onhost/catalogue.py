"""The service catalogue: ``units/services.yaml`` read once into typed objects.

Every fact about a FATE service (unit and program names, ports with the party YAML keys
and the protocol each answers, start stage, one host or many, database needs, what it needs
deployed beside it, logs) lives in that one file, and everything reads it through here:
the units and supervisor programs (:mod:`packager.onhost.services`), fate-configure's roles,
ports and semantic checks, fate-ctl and the rollout. Unknown keys are refused, so a typo in
the catalogue fails the build instead of being ignored.

Python 3.6 (it runs on the host): NamedTuples, not dataclasses.
"""

import os
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from packager.onhost import units, yamlfile

_SERVICE_KEYS = {
    "name", "unit", "program", "stage", "description", "ports", "secure_port", "one_host",
    "needs_db", "needs", "java", "after", "directory", "command", "environment",
    "read_write", "stdout_log", "stderr_log", "logs", "start_timeout", "stop_timeout",
    "restart_sec", "start_limit_interval", "start_limit_burst", "limit_nofile",
    "limit_nproc",
}
_REQUIRED = ("name", "unit", "program", "stage", "description", "ports", "one_host",
             "needs_db", "directory", "command", "stdout_log", "stderr_log")
_DEFAULT_KEYS = {
    "limit_nofile", "limit_nproc", "restart_sec", "start_limit_interval", "start_limit_burst",
    "start_timeout", "stop_timeout", "waitport", "env_dir", "read_write",
}
_LIMITS = ("start_timeout", "stop_timeout", "restart_sec", "start_limit_interval",
           "start_limit_burst", "limit_nofile", "limit_nproc")
#: What a port answers; readiness and fate-ctl status ask it that question.
PROTOCOLS = ("mysql", "http", "grpc", "grpc-tls")


class ServiceDefinitionError(ValueError):
    """The catalogue, an env file or a service name is wrong; the message names what and
    where."""

    exit_code = 2


class Port(NamedTuple):
    """One port: its key in the party YAML section, its default number, what it answers."""

    key: str
    number: int
    protocol: str


class Service:
    """One FATE process: what to run, as which unit/program, on which ports, after what."""

    def __init__(self, data: dict, defaults: dict, where: str) -> None:
        self.name = str(data["name"])
        self.unit = str(data["unit"])
        self.program = str(data["program"])
        self.stage = int(data["stage"])
        self.description = str(data["description"])
        self.port_specs = [_port(p, f"{where}: ports[{i}]") for i, p in enumerate(data["ports"])]
        secure = data.get("secure_port")
        self.secure_port: Optional[Port] = None
        if secure:  # its number is the party's (no default: TLS is opt-in)
            self.secure_port = _port(dict(secure, number=0), f"{where}: secure_port")
        self.one_host = bool(data["one_host"])
        self.needs_db = bool(data["needs_db"])
        self.needs = [str(n) for n in data.get("needs") or []]
        self.java = bool(data.get("java", False))
        self.after = [str(a) for a in data.get("after") or []]
        self.directory = str(data["directory"])
        self.command = [str(a) for a in data["command"]]
        self.environment = {str(k): str(v) for k, v in (data.get("environment") or {}).items()}
        self.read_write = _outermost(list(defaults.get("read_write", []))
                                     + list(data.get("read_write", [])))
        self.stdout_log = str(data["stdout_log"])
        self.stderr_log = str(data["stderr_log"])
        self.logs = [str(g) for g in data.get("logs") or []]
        for key in _LIMITS:
            setattr(self, key, int(data.get(key, defaults[key])))
        self.waitport = str(defaults["waitport"])
        self.env_file = os.path.join(defaults["env_dir"], self.unit + ".env")

    @property
    def ports(self) -> List[int]:
        """The default port numbers, in catalogue order."""
        return [p.number for p in self.port_specs]

    @property
    def port_keys(self) -> List[str]:
        return [p.key for p in self.port_specs]

    @property
    def unit_file(self) -> str:
        return self.unit + ".service"

    @property
    def wait_timeout(self) -> int:
        """fate-waitport gives up a little before systemd would kill it, so the journal
        names the port that did not answer instead of only "start operation timed out"."""
        return max(5, self.start_timeout - 15)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"Service({self.unit!r})"


def _port(data: object, where: str) -> Port:
    if not isinstance(data, dict) or set(data) != {"key", "number", "protocol"}:
        raise ServiceDefinitionError(f"{where}: must be {{key, number, protocol}}")
    if data["protocol"] not in PROTOCOLS:
        raise ServiceDefinitionError(f"{where}: protocol {data['protocol']!r} is not one of "
                                     f"{', '.join(PROTOCOLS)}")
    return Port(str(data["key"]), int(data["number"]), str(data["protocol"]))


def _outermost(paths: List[str]) -> List[str]:
    """Drop paths inside another listed path: ReadWriteDirectories= of a parent covers them."""
    kept: List[str] = []
    for path in paths:
        inside = any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept)
        if not inside:
            kept = [k for k in kept if not k.startswith(path.rstrip("/") + "/")] + [path]
    return kept


def path() -> str:
    """``services.yaml`` of the ``packager.onhost.units`` data package."""
    return os.path.join(units.DIR, "services.yaml")


_PARSED: Dict[str, object] = {}


def load(source: Optional[str] = None) -> List[Service]:
    """Every service, in start order (stage, then catalogue order).

    The file is parsed once; the objects are new on every call, so a caller that adjusts
    one (a test pointing ``waitport`` elsewhere) cannot change what the next caller sees.
    """
    source = source or path()
    if source not in _PARSED:
        try:
            _PARSED[source] = yamlfile.read(source)
        except yamlfile.YamlFileError as exc:
            raise ServiceDefinitionError(str(exc)) from None
    return _build(_PARSED[source], source)


def _build(doc: object, source: str) -> List[Service]:
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise ServiceDefinitionError(f"{source}: needs a 'services' list")
    defaults = doc.get("defaults") or {}
    missing = sorted(_DEFAULT_KEYS - set(defaults))
    if missing:
        raise ServiceDefinitionError("{}: defaults lacks {}".format(source, ", ".join(missing)))
    services: List[Service] = []
    for index, data in enumerate(doc["services"]):
        where = f"{source}: services[{index}]"
        if not isinstance(data, dict):
            raise ServiceDefinitionError(f"{where}: must be a mapping")
        where = "{} ({})".format(where, data.get("name", "?"))
        unknown = sorted(set(data) - _SERVICE_KEYS)
        if unknown:
            raise ServiceDefinitionError(f"{where}: unknown key {unknown[0]}")
        lacking = [k for k in _REQUIRED if k not in data]
        if lacking:
            raise ServiceDefinitionError(f"{where}: missing key {lacking[0]}")
        if not data["command"] or not str(data["command"][0]).startswith("/"):
            raise ServiceDefinitionError(f"{where}: command[0] must be an absolute path")
        services.append(Service(data, defaults, where))
    names = {s.name: s for s in services}
    for svc in services:
        for dep in svc.after:
            if dep not in names:
                raise ServiceDefinitionError(
                    f"{source}: {svc.name}: after names unknown service {dep!r}")
            if names[dep].stage >= svc.stage:
                raise ServiceDefinitionError(
                    f"{source}: {svc.name}: after {dep!r} must be an earlier stage")
        for dep in svc.needs:
            if dep not in names:
                raise ServiceDefinitionError(
                    f"{source}: {svc.name}: needs names unknown service {dep!r}")
    order = sorted(range(len(services)), key=lambda i: (services[i].stage, i))
    return [services[i] for i in order]


def by_name(services: Optional[Sequence[Service]] = None) -> Dict[str, Service]:
    """Services keyed by their catalogue (party YAML) name, in start order."""
    return {s.name: s for s in (services if services is not None else load())}


def get(name: str) -> Service:
    """The service of that catalogue name (``fate_flow``); a wrong name is a bug here."""
    return by_name()[name]


def names() -> Tuple[str, ...]:
    """Catalogue names in start order."""
    return tuple(s.name for s in load())


def find(name: str, services: Optional[Sequence[Service]] = None) -> Service:
    """Accept every spelling an operator uses: fate-flow, fate-flow.service, fate-fateflow,
    fate_flow, flow, fateflow."""
    services = list(services) if services is not None else load()
    wanted = name.strip().lower()
    if wanted.endswith(".service"):
        wanted = wanted[: -len(".service")]
    for svc in services:
        spellings = {svc.name, svc.unit, svc.program, svc.unit[len("fate-"):],
                     svc.program[len("fate-"):], svc.name.replace("_", "")}
        if wanted in spellings:
            return svc
    known = ", ".join(s.unit for s in services)
    raise ServiceDefinitionError(f"unknown service {name!r} (known: {known})")

"""FATE services as data: load ``units/services.yaml``, render systemd units and supervisor.

One definition per service feeds both process managers, so the command line a systemd host
runs and the one a supervisor host runs cannot drift apart. This module runs on the build
host (units are static files inside the RPMs) and on the target (``fate-configure --init
supervisor`` renders supervisor programs there, with the party's env files already written),
so it is Python 3.6 and uses only jinja2 and PyYAML.
"""

import os
import re
import shlex
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import jinja2
import yaml

from packager.onhost import units

#: The service account when the build does not choose another one (docs/contracts.md).
DEFAULT_ACCOUNT = ("app", "apps")
FATE_VERSION = "1.4.5"
UNIT_DIR = "usr/lib/systemd/system"
PRESET_PATH = "usr/lib/systemd/system-preset/90-fate.preset"
TARGET = "fate.target"

_SERVICE_KEYS = {
    "name", "unit", "program", "stage", "description", "ports", "java", "after",
    "directory", "command", "environment", "read_write", "stdout_log", "stderr_log", "logs",
    "start_timeout", "stop_timeout", "restart_sec", "start_limit_interval",
    "start_limit_burst", "limit_nofile", "limit_nproc", "packages",
}
_REQUIRED = ("name", "unit", "program", "stage", "description", "ports", "directory",
             "command", "stdout_log", "stderr_log")
_DEFAULT_KEYS = {
    "limit_nofile", "limit_nproc", "restart_sec", "start_limit_interval", "start_limit_burst",
    "start_timeout", "stop_timeout", "waitport", "env_dir", "read_write",
}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


class ServiceDefinitionError(ValueError):
    """services.yaml, an env file or a service name is wrong; the message names what and where."""


class Service:
    """One FATE process: what to run, as which unit/program, on which ports, after what."""

    def __init__(self, data: dict, defaults: dict) -> None:
        self.name: str = data["name"]
        self.unit: str = data["unit"]
        self.program: str = data["program"]
        self.stage = int(data["stage"])
        self.description: str = data["description"]
        self.ports: List[int] = [int(p) for p in data["ports"]]
        self.java = bool(data.get("java", False))
        self.after: List[str] = list(data.get("after", []))
        #: RPMs a host running this service needs (fate-deploy installs only these).
        self.packages: List[str] = [str(p) for p in data.get("packages", [])]
        self.directory: str = data["directory"]
        self.command: List[str] = [str(a) for a in data["command"]]
        self.environment = {str(k): str(v) for k, v in (data.get("environment") or {}).items()}
        self.read_write: List[str] = _outermost(list(defaults.get("read_write", []))
                                                + list(data.get("read_write", [])))
        self.stdout_log: str = data["stdout_log"]
        self.stderr_log: str = data["stderr_log"]
        self.logs: List[str] = list(data.get("logs", []))
        for key in ("start_timeout", "stop_timeout", "restart_sec", "start_limit_interval",
                    "start_limit_burst", "limit_nofile", "limit_nproc"):
            setattr(self, key, int(data.get(key, defaults[key])))
        self.waitport: str = defaults["waitport"]
        self.env_file = os.path.join(defaults["env_dir"], self.unit + ".env")

    @property
    def unit_file(self) -> str:
        return self.unit + ".service"

    @property
    def wait_timeout(self) -> int:
        """fate-waitport gives up a little before systemd would kill it, so the journal
        names the port that did not answer instead of only "start operation timed out"."""
        return max(5, self.start_timeout - 15)

    def __repr__(self) -> str:
        return f"Service({self.unit!r})"


def _outermost(paths: List[str]) -> List[str]:
    """Drop paths inside another listed path: ReadWriteDirectories= of a parent covers them."""
    kept: List[str] = []
    for path in paths:
        inside = any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept)
        if not inside:
            kept = [k for k in kept if not k.startswith(path.rstrip("/") + "/")] + [path]
    return kept


def units_dir() -> str:
    """Where services.yaml and the templates live: the ``packager.onhost.units`` data
    package (``units/`` of the checkout, mapped in by setuptools;
    ``/usr/lib/fate-tools/packager/onhost/units`` on the host)."""
    return units.DIR


def load_services(path: Optional[str] = None) -> List[Service]:
    """Read and check services.yaml; every mistake is reported with the service it is in."""
    path = path or os.path.join(units_dir(), "services.yaml")
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except OSError as exc:
        raise ServiceDefinitionError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ServiceDefinitionError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise ServiceDefinitionError(f"{path}: needs a 'services' list")
    defaults = doc.get("defaults") or {}
    missing = sorted(_DEFAULT_KEYS - set(defaults))
    if missing:
        raise ServiceDefinitionError("{}: defaults lacks {}".format(path, ", ".join(missing)))
    services: List[Service] = []
    for index, data in enumerate(doc["services"]):
        where = f"{path}: services[{index}]"
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
        services.append(Service(data, defaults))
    names = {s.name: s for s in services}
    for svc in services:
        for dep in svc.after:
            if dep not in names:
                raise ServiceDefinitionError(
                    f"{path}: {svc.name}: after names unknown service {dep!r}")
            if names[dep].stage >= svc.stage:
                raise ServiceDefinitionError(
                    f"{path}: {svc.name}: after {dep!r} must be an earlier stage")
    return services


def find_service(name: str, services: Sequence[Service]) -> Service:
    """Accept every spelling an operator uses: fate-flow, fate-flow.service, fate-fateflow,
    fate_flow, flow, fateflow."""
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


# ---------------------------------------------------------------- env files

def parse_env_file(text: str, source: str = "<env>") -> Dict[str, str]:
    """The subset of systemd's EnvironmentFile= syntax that fate-configure writes:
    ``KEY=value`` or ``KEY="a b"`` per line, ``#``/``;`` comments, blank lines."""
    env: Dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        match = _ENV_LINE.match(line)
        if not match:
            raise ServiceDefinitionError(f"{source}:{lineno}: expected KEY=value, got {raw!r}")
        key, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r'\\(.)', r"\1", value[1:-1])
        elif len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        env[key] = value
    return env


def read_env_file(path: str) -> Dict[str, str]:
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_env_file(fh.read(), path)
    except OSError as exc:
        raise ServiceDefinitionError(f"cannot read env file {path}: {exc.strerror}") from None


def service_environment(svc: Service, env_dir: str) -> Dict[str, str]:
    """What the process sees: the defaults in services.yaml overridden by the env file,
    exactly as systemd applies Environment= then EnvironmentFile=."""
    env = dict(svc.environment)
    env.update(read_env_file(os.path.join(env_dir, svc.unit + ".env")))
    return env


def expand_command(svc: Service, env: Dict[str, str], user: str) -> List[str]:
    """The argv the service runs: ``@USER@`` and ``${VAR}`` replaced. A variable the command
    needs but nobody set is an error (systemd would pass an empty argument)."""
    out = []
    for arg in svc.command:
        arg = arg.replace("@USER@", user)

        def sub(match):
            key = match.group(1)
            if key not in env:
                raise ServiceDefinitionError(f"{svc.unit}: ${{{key}}} is not set in {svc.env_file}")
            return env[key]

        out.append(_VAR.sub(sub, arg))
    return out


def endpoints(value: str) -> List[Tuple[str, int]]:
    """``"10.0.0.1:3306 [::1]:9370"`` (FATE_WAIT_FOR / FATE_LISTEN) as (host, port) pairs."""
    result = []
    for item in value.split():
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ServiceDefinitionError(f"not a host:port: {item!r}")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        result.append((host, int(port)))
    return result


# ---------------------------------------------------------------- rendering

def _sd_quote(arg: str) -> str:
    """Quote one word for a unit file: ``%`` is a specifier and ``$$`` a literal dollar in
    systemd; ``${VAR}`` is kept because expanding it is the point."""
    arg = arg.replace("%", "%%")
    arg = re.sub(r"\$(?!\{[A-Za-z_][A-Za-z0-9_]*\})", "$$", arg)
    if re.search(r'[\s"\'\\;]', arg) or arg == "":
        return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return arg


def _sv_escape(text: str) -> str:
    """supervisor runs %-interpolation on its values; a literal % is %%."""
    return text.replace("%", "%%")


def _sv_env(value: str) -> str:
    """A value inside supervisor's ``environment=KEY="..."`` list."""
    if '"' in value or "\n" in value:
        raise ServiceDefinitionError(
            f"environment value {value!r} cannot be written for supervisor")
    return _sv_escape(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(units_dir()),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["sd_quote"] = _sd_quote
    env.filters["sh_quote"] = shlex.quote
    env.filters["sv_escape"] = _sv_escape
    env.filters["sv_env"] = _sv_env
    return env


def _by_name(services: Sequence[Service]) -> Dict[str, Service]:
    return {s.name: s for s in services}


def render_unit(
    svc: Service,
    services: Sequence[Service],
    account: Tuple[str, str] = DEFAULT_ACCOUNT,
) -> str:
    names = _by_name(services)
    return _environment().get_template("service.j2").render(
        svc=svc,
        deps=[names[d].unit for d in svc.after],
        user=account[0],
        group=account[1],
        env_file=svc.env_file,
        waitport=svc.waitport,
        wait_timeout=svc.wait_timeout,
        command=[a.replace("@USER@", account[0]) for a in svc.command],
        read_write=svc.read_write,
    )


def unit_files(
    account: Tuple[str, str] = DEFAULT_ACCOUNT,
    services: Optional[Sequence[Service]] = None,
) -> Dict[str, str]:
    """Every systemd file the RPMs ship, keyed by its path relative to ``/``."""
    services = list(services) if services is not None else load_services()
    env = _environment()
    files: Dict[str, str] = {}
    for svc in services:
        files[os.path.join(UNIT_DIR, svc.unit_file)] = render_unit(svc, services, account)
    files[os.path.join(UNIT_DIR, TARGET)] = env.get_template("fate.target.j2").render(
        fate_version=FATE_VERSION)
    files[PRESET_PATH] = env.get_template("fate.preset.j2").render(services=services)
    return files


def render_units(out_dir: str, account: Tuple[str, str] = DEFAULT_ACCOUNT) -> List[str]:
    """Write the units, fate.target and the preset under ``out_dir`` (a staging root:
    ``out_dir/usr/lib/systemd/system/...``), mode 0644; returns the written paths."""
    written = []
    for rel, text in sorted(unit_files(account).items()):
        path = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(path, 0o644)
        written.append(path)
    return written


def supervisor_command(svc: Service, env: Dict[str, str], user: str) -> List[str]:
    """supervisor has no ExecStartPre and no per-program limits: fate-waitport does both,
    then execs the same argv the systemd unit runs."""
    argv = [svc.waitport, "--timeout", str(svc.wait_timeout), "--name",
            svc.program + "-dependencies",
            "--nofile", str(svc.limit_nofile), "--nproc", str(svc.limit_nproc)]
    argv += [item for item in env.get("FATE_WAIT_FOR", "").split()]
    return argv + ["--"] + expand_command(svc, env, user)


def render_supervisor(
    service_names: Iterable[str],
    env_dir: str,
    account: Tuple[str, str] = DEFAULT_ACCOUNT,
    services: Optional[Sequence[Service]] = None,
) -> Dict[str, str]:
    """supervisor program files (``fate-<module>.conf``, the seed's names) for the services
    of this host, with the values of their env files in ``env_dir`` baked in."""
    services = list(services) if services is not None else load_services()
    template = _environment().get_template("supervisor.conf.j2")
    out: Dict[str, str] = {}
    for name in service_names:
        svc = find_service(name, services)
        env = service_environment(svc, env_dir)
        endpoints(env.get("FATE_WAIT_FOR", ""))  # refuse a malformed value now, not at start
        process_env = {k: v for k, v in env.items() if not k.startswith("FATE_")}
        out[svc.program + ".conf"] = template.render(
            svc=svc,
            user=account[0],
            command=supervisor_command(svc, env, account[0]),
            environment=process_env,
        )
    return out

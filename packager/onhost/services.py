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

from packager.onhost import catalogue, templating, units
from packager.onhost.catalogue import Service, ServiceDefinitionError

#: The service account when the build does not choose another one (docs/contracts.md).
DEFAULT_ACCOUNT = ("app", "apps")
FATE_VERSION = "1.4.5"
UNIT_DIR = "usr/lib/systemd/system"
PRESET_PATH = "usr/lib/systemd/system-preset/90-fate.preset"
TARGET = "fate.target"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")

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
    return templating.environment(units.DIR, {
        "sd_quote": _sd_quote, "sh_quote": shlex.quote, "sv_escape": _sv_escape,
        "sv_env": _sv_env})


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
    services = list(services) if services is not None else catalogue.load()
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


def env_files_in(env_dir: str) -> Dict[str, str]:
    """The env files of a directory, by file name, as :func:`render_supervisor` takes them."""
    out: Dict[str, str] = {}
    for name in sorted(os.listdir(env_dir)):
        if name.endswith(".env"):
            with open(os.path.join(env_dir, name), encoding="utf-8") as fh:
                out[name] = fh.read()
    return out


def render_supervisor(
    service_names: Iterable[str],
    env_files: Dict[str, str],
    account: Tuple[str, str] = DEFAULT_ACCOUNT,
    services: Optional[Sequence[Service]] = None,
) -> Dict[str, str]:
    """supervisor program files (``fate-<module>.conf``, the seed's names) for the services
    of this host, with the values of their env files baked in. ``env_files`` maps an env
    file's name (``fate-flow.env``) to its text: fate-configure hands over what it is about
    to write, so nothing is read back from disk."""
    services = list(services) if services is not None else catalogue.load()
    template = _environment().get_template("supervisor.conf.j2")
    out: Dict[str, str] = {}
    for name in service_names:
        svc = catalogue.find(name, services)
        text = env_files.get(os.path.basename(svc.env_file))
        if text is None:
            raise ServiceDefinitionError(f"{svc.unit}: no env file {svc.env_file}")
        env = dict(svc.environment)  # Environment= first, then EnvironmentFile= (systemd)
        env.update(parse_env_file(text, svc.env_file))
        endpoints(env.get("FATE_WAIT_FOR", ""))  # refuse a malformed value now, not at start
        process_env = {k: v for k, v in env.items() if not k.startswith("FATE_")}
        out[svc.program + ".conf"] = template.render(
            svc=svc,
            user=account[0],
            command=supervisor_command(svc, env, account[0]),
            environment=process_env,
        )
    return out

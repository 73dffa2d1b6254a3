"""``fate-ctl restore FILE``: bring a party host back from a ``fate-ctl backup`` archive.

Meant for a freshly installed host of the same party (same address), and safe on the
host the backup came from. Order, so that a bad archive never changes anything:

1. verify the whole archive (gzip, every member's sha256, nothing missing or extra);
2. refuse a foreign one: another party than the one applied here, or a host address this
   machine does not have;
3. plan the archived party with fate-configure's own checks (validation, packages,
   service account) — still nothing written;
4. stop this host's FATE services except MySQL; put back ``/etc/fate`` (party, secrets,
   host address) and the TLS keys; run fate-configure on the archived party (renders the
   configs, initialises and starts MySQL, creates databases and accounts);
5. load the MySQL dump (it drops and re-creates the party's databases: the rows are the
   archive's, job history included); put back the archived config files as they were;
   with ``--data`` the data files;
6. ``systemctl start fate.target`` (unless ``--no-start``).
"""

import functools
import grp
import hashlib
import os
import pwd
import subprocess
import tempfile
from typing import IO, Callable, Dict, List, Optional, Tuple, Union

from packager.onhost.configure import cli as configure_cli
from packager.onhost.configure import facts as facts_mod
from packager.onhost.configure import files, paths, pipeline
from packager.onhost.configure.errors import ConfigError
from packager.onhost.configure.passwords import load as load_secrets
from packager.onhost.ctl import archive
from packager.onhost.ctl.backup import CA_DIR, mysql_credentials
from packager.onhost.ctl.host import Host

#: Written before fate-configure runs: it reads them (secrets, the address, TLS files).
FIRST = (paths.SECRETS, paths.APPLIED_HOST, paths.APPLIED_PARTY)


class RestoreError(Exception):
    """Refused (damaged, foreign, not installable here) or a step failed; says which."""

    exit_code = 1


def _ids(owner: str, group: str) -> Tuple[int, int]:
    try:
        uid = pwd.getpwnam(owner).pw_uid
    except KeyError:
        uid = int(owner) if owner.isdigit() else 0
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        gid = int(group) if group.isdigit() else 0
    return uid, gid


def write_member(host: Host, target: str, data: Union[bytes, IO[bytes]], mode: int,
                 owner: Tuple[str, str], sha256: Optional[str] = None) -> None:
    """Atomic write with the archived mode and owner (by name, as on the backed-up host).
    ``data`` may be a stream (data files), checked against ``sha256`` before it replaces
    anything."""
    path = host.path(target)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with files.replaced_atomically(path, mode, _ids(*owner)) as handle:
        if isinstance(data, bytes):
            handle.write(data)
        else:
            digest = hashlib.sha256()
            for chunk in iter(functools.partial(data.read, 1 << 20), b""):
                digest.update(chunk)
                handle.write(chunk)
            if sha256 is not None and digest.hexdigest() != sha256:
                raise RestoreError(f"{target}: the archive changed since it was checked")


def check_foreign(host: Host, manifest: Dict[str, object], addresses: List[str]) -> None:
    party = manifest.get("party") or {}
    assert isinstance(party, dict)
    applied = host.path(paths.APPLIED_PARTY)
    if os.path.isfile(applied):
        try:
            _, here = pipeline.load_party(applied)
        except ConfigError:
            here = None
        if here is not None and (here.role, here.partyid) != (party.get("role"),
                                                              party.get("partyid")):
            raise RestoreError("the archive is of {} but this host is configured for {}: "
                               "refusing a foreign backup".format(party.get("label"),
                                                                  here.label))
    address = str(manifest.get("host") or "")
    recorded = None
    if os.path.isfile(host.path(paths.APPLIED_HOST)):
        with open(host.path(paths.APPLIED_HOST), encoding="utf-8") as handle:
            recorded = handle.read().strip()
    if recorded and recorded != address:
        raise RestoreError(f"the archive is of host {address} but this host was configured as "
                           f"{recorded}: refusing a foreign backup")
    if host.root in ("", "/") and address not in addresses:
        raise RestoreError("the archive is of host {} but this machine has {}: restore it on "
                           "the party's host {} (or give this machine that address)".format(
                               address, ", ".join(addresses) or "no IPv4 address", address))


def plan_check(host: Host, party_bytes: bytes, address: str, account: Tuple[str, str]
               ) -> None:
    """fate-configure's own checks on the archived party, before anything is written."""
    fd, tmp = tempfile.mkstemp(prefix="fate-restore-", suffix=".yaml")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(party_bytes)
        root = paths.Root(host.root)
        facts = facts_mod.gather()
        if not root.is_live:
            facts = facts._replace(systemd=False)
        pipeline.prepare(tmp, root, facts, address, "systemd", account,
                         probe=lambda _h, _p: None)
    except ConfigError as exc:
        raise RestoreError("the archived party cannot be applied here: " + exc.messages[0]
                           ) from None
    finally:
        os.unlink(tmp)


def load_dump(host: Host, dump: bytes) -> None:
    secrets = load_secrets(paths.Root(host.root)) or {}
    creds = mysql_credentials(host, secrets.get("mysql_root", ""))
    try:
        proc = subprocess.run(  # noqa: UP022 (capture_output is 3.7)
            [host.path(paths.MYSQL_HOME + "/bin/mysql"), "--defaults-extra-file=" + creds,
             "--batch"], input=dump, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=3600)
    finally:
        os.unlink(creds)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RestoreError("loading the MySQL dump failed: " + (lines[-1] if lines else
                                                               f"exit {proc.returncode}"))


def _systemctl(*args: str) -> int:
    try:
        return subprocess.run(("systemctl",) + args, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=600).returncode
    except (OSError, subprocess.TimeoutExpired):
        return 1


def run(host: Host, path: str, account: Tuple[str, str], start: bool, check_only: bool,
        say: Callable[[str], None] = print) -> Dict[str, object]:
    try:
        found = archive.verify(path)
    except archive.ArchiveError as exc:
        raise RestoreError(str(exc)) from None
    manifest = found.manifest
    say("restore: {} verified: {} of {} ({}), {} members".format(
        path, manifest.get("created"), (manifest.get("party") or {}).get("label"),
        manifest.get("host"), len(found.members)))
    check_foreign(host, manifest, facts_mod.ipv4_addresses())
    members = archive.read_small(found)
    party_member = "files" + paths.APPLIED_PARTY
    if party_member not in members:
        raise RestoreError(f"{path}: no {paths.APPLIED_PARTY} in the archive")
    address = str(manifest.get("host"))
    plan_check(host, members[party_member][1], address, account)
    result: Dict[str, object] = {"archive": path, "party": (manifest.get("party") or {})
                                 .get("label"), "host": address, "mysql": False,
                                 "configs_differed": [], "data_files": 0, "started": False}
    if check_only:
        say("restore: --check: the archive is sound and fits this host; nothing was changed")
        return result
    live = host.root in ("", "/") and os.path.isdir("/run/systemd/system")
    services = [str(s) for s in manifest.get("services") or []]
    if live:
        units = [svc.unit_file for svc in sorted(host.services, key=lambda s: -s.stage)
                 if svc.name != "mysql"]
        _systemctl("stop", *units)
        say("restore: stopped " + " ".join(u[:-8] for u in units))
    for target in FIRST:
        if "files" + target in members:
            info, data = members["files" + target]
            write_member(host, target, data, info.mode, (info.uname, info.gname))
    for name, (info, data) in sorted(members.items()):
        if name.startswith(("files" + paths.KEYS_DIR + "/", "files" + CA_DIR + "/")):
            write_member(host, name[len("files"):], data, info.mode, (info.uname, info.gname))
    for directory in (CA_DIR, CA_DIR + "/peers"):
        if os.path.isdir(host.path(directory)):
            os.chmod(host.path(directory), 0o700)
    say("restore: fate-configure " + paths.APPLIED_PARTY)
    argv = ["apply", host.path(paths.APPLIED_PARTY), "--host", address,
            "--account", ":".join(account)]
    if host.root not in ("", "/"):
        argv += ["--root", host.root]
    if configure_cli.main(argv) != 0:
        raise RestoreError("fate-configure failed on the archived party (see above); "
                           "/etc/fate holds the archive's files, re-run fate-ctl restore")
    if archive.DUMP in members:
        load_dump(host, members[archive.DUMP][1])
        result["mysql"] = True
        say("restore: loaded the MySQL dump ({})".format(
            ", ".join((manifest.get("mysql") or {}).get("databases") or [])))
    differed: List[str] = []
    for name, (info, data) in sorted(members.items()):
        if not name.startswith("files/"):
            continue
        target = name[len("files"):]
        current = None
        if os.path.isfile(host.path(target)):
            with open(host.path(target), "rb") as handle:
                current = handle.read()
        if current != data:
            differed.append(target)
        write_member(host, target, data, info.mode, (info.uname, info.gname))
    result["configs_differed"] = differed
    for target in differed:
        say(f"restore: put back {target} as archived (it differed from a fresh render)")
    count = 0
    for info, stream, sha in archive.read_members(found, small=False):
        write_member(host, info.name[len("data"):], stream, info.mode,
                     (info.uname, info.gname), sha)
        count += 1
    result["data_files"] = count
    if start and live and services:
        if _systemctl("start", "fate.target") != 0:
            raise RestoreError("systemctl start fate.target failed; see fate-ctl status")
        result["started"] = True
        say("restore: started fate.target")
    elif start:
        say("restore: not starting services (no running systemd here)")
    return result


def summary(result: Dict[str, object]) -> List[str]:
    rows = [("archive", str(result["archive"])), ("party", str(result["party"])),
            ("host", str(result["host"])),
            ("mysql", "restored from the dump" if result["mysql"] else "no dump (not the "
             "MySQL host)"),
            ("configs put back as archived", str(len(result["configs_differed"]))),  # type: ignore
            ("data files", str(result["data_files"])),
            ("services", "started" if result["started"] else "not started")]
    width = max(len(k) for k, _ in rows)
    return [f"{k.ljust(width)}  {v}" for k, v in rows]


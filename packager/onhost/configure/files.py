"""Writing the planned files: compare, back up, write atomically, own, and show diffs.

A half-written eggroll.properties is worse than an old one, so every write goes to a
temporary file in the same directory that is fsynced, given its mode and owner, and
renamed over the target. The previous content is kept as ``<file>.fate-configure.bak``
(and ``.bak.1``, ``.bak.2``: the last three), with the old file's mode so a backup of a
0600 secrets file stays 0600.
"""

import contextlib
import difflib
import grp
import os
import pwd
import re
import shutil
from typing import BinaryIO, Dict, Iterator, List, Optional, Sequence, Tuple

from .errors import ConfigError
from .paths import Root
from .plan import FileSpec

BACKUP = ".fate-configure.bak"
KEEP = 3
MASK = "********"


def _lookup(root: Root, table: str, name: str) -> Optional[int]:
    """uid/gid of ``name``: from ROOT/etc/passwd|group first (like rpm in a root)."""
    if not root.is_live:
        try:
            with open(root("/etc/" + table), encoding="utf-8") as handle:
                for line in handle:
                    fields = line.split(":")
                    if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
                        return int(fields[2])
        except OSError:
            pass
    try:
        return pwd.getpwnam(name).pw_uid if table == "passwd" else grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def resolve_owners(root: Root, specs: Sequence[FileSpec]) -> Dict[Tuple[str, str], Tuple[int, int]]:
    """uid/gid for every owner the plan uses; a missing account is a ConfigError."""
    out: Dict[Tuple[str, str], Tuple[int, int]] = {}
    for spec in specs:
        key = (spec.owner, spec.group)
        if key in out:
            continue
        uid = _lookup(root, "passwd", spec.owner)
        gid = _lookup(root, "group", spec.group)
        if uid is None or gid is None:
            raise ConfigError(f"account {spec.owner}:{spec.group} does not exist on this host; "
                              f"install fate-common "
                              "first (its %pre creates app:apps) or pass --account USER:GROUP"
                              )
        out[key] = (uid, gid)
    return out


def read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return ""


def needs_write(root: Root, spec: FileSpec, ids: Tuple[int, int]) -> Optional[str]:
    """Why the file must be written (``"new"``, ``"content"``, ``"mode"``, ``"owner"``) or None."""
    target = root(spec.path)
    current = read(target)
    if current is None:
        return "new"
    if current != spec.content:
        return "content"
    info = os.stat(target)
    if info.st_mode & 0o7777 != spec.mode:
        return "mode"
    if (info.st_uid, info.st_gid) != ids:
        return "owner"
    return None


def rotate_backups(target: str) -> None:
    for index in range(KEEP - 1, 0, -1):
        older = f"{target}{BACKUP}.{index}"
        newer = "{}{}{}".format(target, BACKUP, "" if index == 1 else "." + str(index - 1))
        if os.path.exists(newer):
            os.replace(newer, older)
    if os.path.exists(target):
        backup = target + BACKUP
        shutil.copy2(target, backup)
        info = os.stat(target)
        os.chown(backup, info.st_uid, info.st_gid)


def write(root: Root, spec: FileSpec, ids: Tuple[int, int], backup: bool = True) -> None:
    target = root(spec.path)
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    if backup and os.path.exists(target) and read(target) != spec.content:
        rotate_backups(target)
    with replaced_atomically(target, spec.mode, ids) as handle:
        handle.write(spec.content.encode("utf-8"))


@contextlib.contextmanager
def replaced_atomically(target: str, mode: int, ids: Tuple[int, int]) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``target`` (0600 while it is written);
    on success it gets ``mode`` and owner ``ids``, is synced and renamed over ``target``.
    On any error, Ctrl-C included, the temporary file is removed and ``target`` is as it
    was: a reader never sees half a file."""
    tmp = os.path.join(os.path.dirname(target),
                       f".{os.path.basename(target)}.fate-configure.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fchown(handle.fileno(), ids[0], ids[1])
            os.fchmod(handle.fileno(), mode & 0o7777)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove(root: Root, path: str) -> None:
    """Remove a file fate-configure wrote earlier, keeping it as the newest backup."""
    target = root(path)
    rotate_backups(target)
    os.unlink(target)


# A value after a key that names a password: masked even when the value is not a known
# secret (the previous password in a file about to be replaced, a hand-edited file).
_COMMENT = ("#", ";", "//")
_SECRET_LINE = re.compile(r"^(.*?(?:passw(?:or)?d|mysql_fate|mysql_root)[^=:]*[=:]\s*)(\S.*)$",
                          re.IGNORECASE)


def mask(text: str, secrets: Sequence[str]) -> str:
    """Hide passwords in values, leaving the rest readable: a known secret where it stands
    as a whole value (not inside a path or a word: a password ``fate`` must not turn
    ``/data/projects/fate`` into stars), and any value of a password-named key outside
    comments (``# Password of dbuser; empty = none`` is documentation, not a value)."""
    lines = []
    for line in text.splitlines(True):
        end = "\n" if line.endswith("\n") else ""
        body = line[:len(line) - len(end)]
        for value in secrets:
            if value:
                body = re.sub(rf"(?<![\w./-]){re.escape(value)}(?![\w./-])", MASK, body)
        match = None if body.lstrip().startswith(_COMMENT) else _SECRET_LINE.match(body)
        if match and match.group(2).strip('"\'') not in ("", MASK, "null"):
            quote = '"' if match.group(2).startswith('"') else ""
            body = match.group(1) + quote + MASK + quote
        lines.append(body + end)
    return "".join(lines)


def diff(root: Root, spec: FileSpec, secrets: Sequence[str]) -> List[str]:
    """Unified diff lines of current -> planned content, secrets masked.

    Diffed first and masked after, so a changed password still shows as a changed line
    (``-password=********`` / ``+password=********``) without showing either value."""
    current = read(root(spec.path))
    old = (current or "").splitlines(True)
    new = spec.content.splitlines(True)
    lines = list(difflib.unified_diff(old, new, fromfile=spec.path if current is not None
                                      else "/dev/null", tofile=spec.path))
    out = []
    for line in lines:
        line = line if line.endswith("\n") else line + "\n"
        if line.startswith(("---", "+++", "@@")):
            out.append(mask(line, secrets))
        else:  # the marker apart, so that `-# comment` is still a comment
            out.append(line[:1] + mask(line[1:], secrets))
    return out

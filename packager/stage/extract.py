"""Safe, atomic, deterministic extraction of tar (plain/gz/bz2/xz) and zip artifacts.

Upstream tarballs go straight into RPMs that install as root, so a member named
``../../etc/cron.d/x``, an absolute path, a symlink to ``/etc`` followed by a file written
through it, or a device node must never get past staging. Every member is checked before
anything is written; a refusal is a ``UserError`` naming the archive and the member.

How the tree is written, and why:
* into a fresh temporary directory next to the destination, renamed into place only when
  everything succeeded, so a failure (or Ctrl-C) never leaves a half-extracted tree;
* regular files and directories first, symlinks last: while files are written no symlink
  exists in the tree, so no write can be redirected through one; afterwards every symlink
  is resolved on disk and must stay inside the tree (this also catches chains of links);
* hardlinks become copies (el7 rule 11: no hardlinks in RPM payloads);
* permission bits come from the archive (``& 0o777``: no setuid/setgid/sticky bits from
  upstream; the package spec decides those), independent of the umask; owners are not
  applied (the RPM spec decides); mtimes come from the archive, directories last, so the
  same archive always gives the same tree.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator
from zlib import error as zlib_error

from packager.errors import UserError

_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """One archive entry, reduced to what extraction needs, in a format-neutral shape."""

    name: str  # normalised relative path, '/'-separated
    kind: str  # "file" | "dir" | "symlink" | "hardlink"
    mode: int
    mtime: int
    target: str = ""  # symlink target, or the member a hardlink points to
    open: Callable[[], BinaryIO] | None = None
    written: bool = False  # a file already written while a tar stream was read


@dataclass(frozen=True)
class Extracted:
    root: Path
    files: int
    dirs: int
    symlinks: int


def extract(archive: Path | str, dest: Path | str, strip_components: int = 0,
            prefix: str | None = None) -> Extracted:
    """Extract ``archive`` into ``dest`` (which must not exist yet); all or nothing.

    ``prefix`` is where ``dest`` will be installed on the target (e.g.
    ``/data/projects/fate/common/jdk/jdk-8u192``). Absolute symlinks are refused unless
    they point inside that prefix: such a link stays inside the package once installed.
    """
    archive, dest = Path(archive), Path(dest)
    if prefix is not None:
        prefix = posixpath.normpath(prefix)
        if not prefix.startswith("/") or prefix == "/":
            raise UserError(f"install prefix {prefix!r} must be an absolute path below /")
    if os.path.lexists(dest):
        raise UserError(f"{dest}: already exists; extraction needs a fresh directory")
    if not dest.parent.is_dir():
        raise UserError(f"{dest.parent}: no such directory")
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.extract-"))
    try:
        if _is_zip(archive):
            with _open_members(archive) as members:
                plan = _plan(archive, members, strip_components, prefix)
                counts = _write(archive, plan, tmp, prefix)
        else:
            members = _stream_tar(archive, tmp, strip_components)
            plan = _plan(archive, members, strip_components, prefix)
            counts = _write(archive, plan, tmp, prefix)
        os.chmod(tmp, 0o755)
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Extracted(dest, *counts)


def _is_zip(archive: Path) -> bool:
    try:
        with open(archive, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise UserError(f"{archive}: cannot read: {exc.strerror}") from None
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def _stream_tar(archive: Path, tmp: Path, strip: int) -> list[tuple[str, Member | None, str]]:
    """Read a tar once, as a stream, writing its regular files into ``tmp`` on the way.

    A compressed tar read at random (to list it, then again to write each member) was
    decompressed twice, in this process: 3.4x the time of ``pigz -dc | tar -x`` on the
    real-size python-env artifact. Here gzip is decompressed by ``pigz`` in a process of
    its own (the other core), once. Safety is the same as :func:`_plan` then
    :func:`_write` give: a member is written only after its name passed the checks of
    ``_plan``'s first loop (in archive order, so the same member is refused first); no
    symlink exists in ``tmp`` while files are written (symlinks and hardlinks come after,
    from the list returned here); and ``tmp`` is removed when ``_plan`` then refuses a
    member for what the whole archive shows (a file below a symlink...).
    """
    members: list[tuple[str, Member | None, str]] = []
    seen: dict[str, str] = {}
    made: set[str] = set()
    blocked: OSError | None = None
    proc = None
    with open(archive, "rb") as fh:
        magic = fh.read(2)
    try:
        if magic == b"\x1f\x8b" and shutil.which("pigz"):
            proc = subprocess.Popen(["pigz", "-dc", str(archive)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            tf = tarfile.open(fileobj=proc.stdout, mode="r|", bufsize=_COPY_CHUNK)
        else:
            tf = tarfile.open(archive, "r|*", bufsize=_COPY_CHUNK)
        with tf:
            for raw, member, reason in _tar_members(tf):
                members.append((raw, member, reason))
                if member is None:
                    raise _refuse(archive, raw, reason)
                name = _normalise(archive, raw, strip)
                if not name:
                    continue
                kind = seen.get(name)
                if kind is not None and not kind == member.kind == "dir":
                    raise _refuse(archive, raw, f"appears twice (as {kind} and {member.kind})")
                seen[name] = member.kind
                if member.kind != "file" or blocked is not None:
                    continue
                path = os.path.join(tmp, name)
                parent = os.path.dirname(path)
                try:
                    if parent not in made:
                        os.makedirs(parent, exist_ok=True)
                        made.add(parent)
                    assert member.open is not None
                    with member.open() as src, open(path, "wb") as out:
                        shutil.copyfileobj(src, out, _COPY_CHUNK)
                except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
                    blocked = exc  # a file where a directory must be: _plan names it
                    continue
                os.chmod(path, member.mode & 0o777)
                os.utime(path, (member.mtime, member.mtime))
                members[-1] = (raw, Member(member.name, "file", member.mode, member.mtime,
                                           written=True), "")
        if proc is not None:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            if proc.wait() != 0:
                raise UserError(f"{archive}: not a readable tar or zip archive ({err})")
    except (tarfile.TarError, EOFError, zlib_error, OSError) as exc:
        if isinstance(exc, UserError):
            raise
        raise UserError(f"{archive}: not a readable tar or zip archive ({exc})") from None
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
    if blocked is not None:
        _plan(archive, members, strip, None)  # names the member in the way
        raise UserError(f"{archive}: cannot be extracted: {blocked}")
    return members


# -- reading archives ----------------------------------------------------------------------


class _open_members:  # noqa: N801 - a context manager used like a function
    """Open a zip archive (read at random: each member once) as ``Member`` objects. Tars
    are read as a stream instead (:func:`_stream_tar`)."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.handle: zipfile.ZipFile | None = None

    def __enter__(self) -> list[tuple[str, Member | None, str]]:
        try:
            self.handle = zipfile.ZipFile(self.archive)
            return list(_zip_members(self.archive, self.handle))
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            self.__exit__()
            raise UserError(f"{self.archive}: not a readable tar or zip archive ({exc})") \
                from None

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def _tar_members(tf: tarfile.TarFile) -> Iterator[tuple[str, Member | None, str]]:
    """Yield (raw name, member or None, reason it is refused)."""
    for info in tf:
        mode, mtime = info.mode & 0o7777, int(info.mtime)
        if info.isreg():
            yield info.name, Member(info.name, "file", mode, mtime,
                                    open=_tar_opener(tf, info)), ""
        elif info.isdir():
            yield info.name, Member(info.name, "dir", mode, mtime), ""
        elif info.issym():
            yield info.name, Member(info.name, "symlink", 0o777, mtime, info.linkname), ""
        elif info.islnk():
            yield info.name, Member(info.name, "hardlink", mode, mtime, info.linkname), ""
        else:
            kind = ("character device" if info.ischr() else "block device" if info.isblk()
                    else "fifo" if info.isfifo() else "special file")
            yield info.name, None, f"is a {kind}"


def _tar_opener(tf: tarfile.TarFile, info: tarfile.TarInfo) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        fh = tf.extractfile(info)
        assert fh is not None  # regular member
        return fh  # type: ignore[return-value]
    return opener


def _zip_members(archive: Path, zf: zipfile.ZipFile) -> Iterator[tuple[str, Member | None, str]]:
    for info in zf.infolist():
        # only archives made on Unix (create_system 3) carry a meaningful st_mode
        unix = info.external_attr >> 16 if info.create_system == 3 else 0
        ftype = stat.S_IFMT(unix)
        mtime = _zip_mtime(info)
        if info.is_dir() or ftype == stat.S_IFDIR:
            yield info.filename, Member(info.filename, "dir", (unix & 0o7777) or 0o755, mtime), ""
        elif ftype == stat.S_IFLNK:
            target = zf.read(info).decode("utf-8", "surrogateescape")
            yield info.filename, Member(info.filename, "symlink", 0o777, mtime, target), ""
        elif ftype in (0, stat.S_IFREG):
            yield info.filename, Member(info.filename, "file", (unix & 0o7777) or 0o644, mtime,
                                        open=_zip_opener(zf, info)), ""
        else:
            yield info.filename, None, "is a device, fifo or socket"


def _zip_opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], BinaryIO]:
    return lambda: zf.open(info)  # type: ignore[return-value]


def _zip_mtime(info: zipfile.ZipInfo) -> int:
    """Zip stores local time without a zone; read it as UTC so the result never varies."""
    import calendar

    try:
        return calendar.timegm((*info.date_time, 0, 0, 0))
    except (ValueError, OverflowError):
        return 0


# -- checking --------------------------------------------------------------------------------


def _normalise(archive: Path, raw: str, strip: int) -> str | None:
    """The member's relative path, '' for the root itself, None when stripped away."""
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise _refuse(archive, raw, "has an absolute path")
    if "\\" in raw:
        raise _refuse(archive, raw, "contains a backslash")
    if "\0" in raw:
        raise _refuse(archive, raw, "contains a NUL byte")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _refuse(archive, raw, "contains '..'")
    if strip:
        if len(parts) <= strip:
            return None
        parts = parts[strip:]
    return "/".join(parts)


def _plan(archive: Path, members: list[tuple[str, Member | None, str]],
          strip: int, prefix: str | None) -> list[Member]:
    """Validate every member before anything is written; return what to create, in order."""
    by_name: dict[str, Member] = {}
    order: list[str] = []
    for raw, member, reason in members:
        if member is None:
            raise _refuse(archive, raw, reason)
        name = _normalise(archive, raw, strip)
        if name is None or name == "":
            continue  # the archive's own root ("./") or a stripped leading directory
        member = Member(name, member.kind, member.mode, member.mtime, member.target, member.open,
                        member.written)
        previous = by_name.get(name)
        if previous is not None:
            if previous.kind == member.kind == "dir":
                by_name[name] = member
                continue
            raise _refuse(archive, raw, f"appears twice (as {previous.kind} and {member.kind})")
        by_name[name] = member
        order.append(name)
    for name in order:
        member = by_name[name]
        # nothing may live below a symlink or a file
        parent = posixpath.dirname(name)
        while parent:
            above = by_name.get(parent)
            if above is not None and above.kind != "dir":
                raise _refuse(archive, name, f"is inside {parent}, which is a {above.kind}")
            parent = posixpath.dirname(parent)
        if member.kind == "symlink":
            _check_symlink(archive, member, prefix)
        elif member.kind == "hardlink":
            try:
                target = _normalise(archive, member.target, strip)
            except UserError:
                raise _refuse(archive, name, f"is a hardlink to {member.target!r}, "
                              "outside the tree") from None
            source = by_name.get(target or "")
            if source is None or source.kind != "file":
                raise _refuse(archive, name,
                              f"is a hardlink to {member.target!r}, not a file in the archive")
            by_name[name] = Member(name, "hardlink", member.mode, member.mtime, target or "")
    return [by_name[name] for name in order]


def _check_symlink(archive: Path, member: Member, prefix: str | None) -> None:
    target = member.target
    if not target:
        raise _refuse(archive, member.name, "is a symlink with an empty target")
    if target.startswith("/"):
        inside = _under(target, prefix)
        if inside is None or posixpath.normpath(inside or ".").split("/")[0] == "..":
            where = f"outside the install prefix {prefix}" if prefix else "absolute"
            raise _refuse(archive, member.name, f"is a symlink to {target!r} ({where})")
        return
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), target))
    if resolved == ".." or resolved.startswith("../"):
        raise _refuse(archive, member.name, f"is a symlink to {target!r}, outside the tree")


def _under(target: str, prefix: str | None) -> str | None:
    """``target`` relative to ``prefix`` ('' for the prefix itself), None if outside it.

    Deliberately no normpath: ``prefix/a/../..`` must be judged by following ``a``,
    which may be a symlink, not by cancelling it out on paper.
    """
    if prefix is None:
        return None
    parts = [p for p in target.split("/") if p not in ("", ".")]
    wanted = [p for p in prefix.split("/") if p]
    if parts[: len(wanted)] != wanted:
        return None
    return "/".join(parts[len(wanted):])


def _escapes(root: Path, link: str, prefix: str | None) -> bool:
    """Resolve symlink ``link`` (relative to ``root``) as if ``root`` were mounted at
    ``prefix``: True when the path leaves the tree or loops. Only paths inside the tree
    are ever looked at, so the build host's own file system plays no part."""
    current = [p for p in posixpath.dirname(link).split("/") if p]
    pending = [os.readlink(root / link)]
    queue: list[str] = []
    hops = 0
    while pending or queue:
        if pending:
            target = pending.pop()
            if target.startswith("/"):
                inside = _under(target, prefix)
                if inside is None:
                    return True
                current = []
                target = inside
            queue = [p for p in target.split("/") if p] + queue
            continue
        part = queue.pop(0)
        if part == ".":
            continue
        if part == "..":
            if not current:
                return True
            current.pop()
            continue
        candidate = root.joinpath(*current, part)
        if candidate.is_symlink():
            hops += 1
            if hops > 40:  # the kernel's own limit for a path lookup
                return True
            pending.append(os.readlink(candidate))
            continue
        current.append(part)
    return False


def _refuse(archive: Path, member: str, reason: str) -> UserError:
    return UserError(f"{archive}: refusing member {member!r}: {reason}")


# -- writing ---------------------------------------------------------------------------------


def _write(archive: Path, plan: list[Member], root: Path,
           prefix: str | None) -> tuple[int, int, int]:
    dirs: dict[str, Member] = {}
    files = links = 0
    for member in plan:
        path = root / member.name
        if member.kind == "dir":
            path.mkdir(parents=True, exist_ok=True)
            dirs[member.name] = member
        elif member.kind == "file" and not member.written:
            path.parent.mkdir(parents=True, exist_ok=True)
            assert member.open is not None
            with member.open() as src, open(path, "wb") as out:
                shutil.copyfileobj(src, out, _COPY_CHUNK)
            os.chmod(path, member.mode & 0o777)
            os.utime(path, (member.mtime, member.mtime))
            files += 1
        elif member.kind == "file":
            files += 1
    for member in plan:  # copies of hardlinked files, once every file exists
        if member.kind == "hardlink":
            path = root / member.name
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / member.target, path)
            os.chmod(path, member.mode & 0o777)
            os.utime(path, (member.mtime, member.mtime))
            files += 1
    for member in plan:  # symlinks last: nothing was written through one
        if member.kind != "symlink":
            continue
        path = root / member.name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(member.target, path)
        links += 1
    for member in plan:
        if member.kind != "symlink":
            continue
        if _escapes(root, member.name, prefix):
            raise _refuse(archive, member.name,
                          f"is a symlink to {member.target!r}, which leads outside the tree "
                          "through another symlink (or loops)")
        os.utime(root / member.name, (member.mtime, member.mtime), follow_symlinks=False)
    # directories: modes and mtimes last, deepest first, so writing inside them is done.
    # Directories the archive does not list get 0755 and the newest mtime in the archive.
    default_mtime = max((m.mtime for m in plan), default=0)
    all_dirs = []
    for top, subdirs, _ in os.walk(root):
        for sub in subdirs:
            full = os.path.join(top, sub)
            if not os.path.islink(full):
                all_dirs.append(os.path.relpath(full, root).replace(os.sep, "/"))
    for name in sorted(all_dirs, key=lambda n: n.count("/"), reverse=True):
        member = dirs.get(name)
        path = root / name
        os.chmod(path, (member.mode & 0o777) if member else 0o755)
        mtime = member.mtime if member else default_mtime
        os.utime(path, (mtime, mtime))
    os.utime(root, (default_mtime, default_mtime))
    return files, len(all_dirs), links

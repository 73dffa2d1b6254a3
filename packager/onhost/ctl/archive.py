"""The backup archive: one gzip'd tar, a manifest with the sha256 of every member.

Layout: ``files/<absolute path>`` for every config file (mode and owner kept in the tar
header), ``mysql/dump.sql`` (one ``mysqldump --single-transaction`` of the party's
databases: one consistent snapshot across them), ``data/<absolute path>`` with ``--data``,
and ``manifest.json`` last (written once every member's sha256 is known). Reading verifies
the whole archive — gzip CRC, every member against the manifest, nothing missing, nothing
extra, no path that leaves its prefix — before a caller may change anything.
"""

import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from typing import IO, Any, Dict, Iterator, List, NamedTuple, Optional, Tuple

FORMAT = "fate-pkg-backup/1"
MANIFEST = "manifest.json"
DUMP = "mysql/dump.sql"
PREFIXES = ("files/", "data/", "mysql/")
_CHUNK = 1 << 20


class ArchiveError(Exception):
    """The archive is damaged, foreign or not a backup: nothing was changed."""

    exit_code = 1


class Member(NamedTuple):
    name: str
    sha256: str
    size: int


class _Hashing:
    """A read-only file object that hashes what tarfile reads from it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


class Writer:
    """Adds members to a new archive; ``close`` appends the manifest and publishes the file
    (written as ``.<name>.partial``, 0600 from its creation, renamed when complete)."""

    def __init__(self, path: str) -> None:
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        self.partial = os.path.join(directory, "." + os.path.basename(path) + ".partial")
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_EXCL, 0o600)
        self.raw = os.fdopen(fd, "wb")
        self.tar = tarfile.open(fileobj=self.raw, mode="w:gz", format=tarfile.PAX_FORMAT)
        self.members: List[Member] = []

    def _info(self, name: str, size: int, mode: int = 0o600, owner: Tuple[str, str] =
              ("root", "root"), mtime: Optional[float] = None) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = mode
        info.uname, info.gname = owner
        info.mtime = int(mtime if mtime is not None else time.time())
        return info

    def add_bytes(self, name: str, data: bytes, mode: int = 0o600,
                  owner: Tuple[str, str] = ("root", "root")) -> None:
        self.tar.addfile(self._info(name, len(data), mode, owner), io.BytesIO(data))
        self.members.append(Member(name, hashlib.sha256(data).hexdigest(), len(data)))

    def add_file(self, name: str, source: str, owner: Tuple[str, str]) -> None:
        """A file from disk, streamed (data directories can be large), hashed as it goes."""
        info = os.stat(source)
        with open(source, "rb") as handle:
            hashing = _Hashing(handle)
            self.tar.addfile(self._info(name, info.st_size, info.st_mode & 0o7777, owner,
                                        info.st_mtime), hashing)
        self.members.append(Member(name, hashing.digest.hexdigest(), info.st_size))

    def close(self, manifest: Dict[str, Any]) -> None:
        doc = dict(manifest, format=FORMAT,
                   members=[m._asdict() for m in self.members])
        self.add_bytes(MANIFEST, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
        self.tar.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        try:
            self.tar.close()
            self.raw.close()
        finally:
            if os.path.exists(self.partial):
                os.unlink(self.partial)


class Archive(NamedTuple):
    path: str
    manifest: Dict[str, Any]
    members: Dict[str, tarfile.TarInfo]


def _safe(name: str) -> bool:
    parts = name.split("/")
    return (name == MANIFEST or name.startswith(PREFIXES)) and ".." not in parts \
        and "" not in parts[1:] and not name.startswith("/")


def verify(path: str) -> Archive:
    """Read the whole archive once and check it; ArchiveError names the first problem."""
    digests: Dict[str, Tuple[str, int]] = {}
    infos: Dict[str, tarfile.TarInfo] = {}
    manifest_bytes = None
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for info in tar:
                if not info.isfile():
                    raise ArchiveError(f"{path}: member {info.name} is not a regular file")
                if not _safe(info.name):
                    raise ArchiveError(f"{path}: member {info.name} is outside the backup layout")
                if info.name in infos:
                    raise ArchiveError(f"{path}: member {info.name} appears twice")
                handle = tar.extractfile(info)
                assert handle is not None
                digest = hashlib.sha256()
                data = b""
                while True:
                    chunk = handle.read(_CHUNK)
                    if not chunk:
                        break
                    digest.update(chunk)
                    if info.name == MANIFEST:
                        data += chunk
                if info.name == MANIFEST:
                    manifest_bytes = data
                else:
                    digests[info.name] = (digest.hexdigest(), info.size)
                    infos[info.name] = info
    except FileNotFoundError:
        raise ArchiveError(f"{path}: no such file") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ArchiveError(f"{path}: damaged or not a backup archive ({exc})") from None
    if manifest_bytes is None:
        raise ArchiveError(f"{path}: no {MANIFEST}: not a fate-ctl backup")
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except ValueError as exc:
        raise ArchiveError(f"{path}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{path}: not a {FORMAT} archive (format "
                           f"{manifest.get('format') if isinstance(manifest, dict) else '?'})")
    listed = {}
    for entry in manifest.get("members") or []:
        listed[entry["name"]] = (entry["sha256"], int(entry["size"]))
    for name, (sha, size) in sorted(listed.items()):
        if name not in digests:
            raise ArchiveError(f"{path}: {name} is in the manifest but not in the archive")
        if digests[name] != (sha, size):
            raise ArchiveError(f"{path}: {name} does not match its sha256 in the manifest "
                               "(damaged)")
    extra = sorted(set(digests) - set(listed))
    if extra:
        raise ArchiveError(f"{path}: {extra[0]} is not listed in the manifest")
    return Archive(path, manifest, infos)


def read_members(archive: Archive, small: bool = True
                 ) -> Iterator[Tuple[tarfile.TarInfo, IO[bytes], str]]:
    """(member, its open stream, the manifest's sha256) after ``verify``: with ``small`` the
    config and dump members, else the ``data/`` ones (which may be large: read them in
    chunks and check the sha256 as they are written)."""
    listed = {e["name"]: e["sha256"] for e in archive.manifest["members"]}
    try:
        with tarfile.open(archive.path, mode="r:gz") as tar:
            for info in tar:
                if info.name == MANIFEST or info.name.startswith("data/") == small:
                    continue
                handle = tar.extractfile(info)
                assert handle is not None
                yield info, handle, listed[info.name]
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ArchiveError(f"{archive.path}: changed since it was checked ({exc})") from None


def read_small(archive: Archive) -> Dict[str, Tuple[tarfile.TarInfo, bytes]]:
    """The config and dump members in memory, each re-checked against the manifest."""
    out: Dict[str, Tuple[tarfile.TarInfo, bytes]] = {}
    for info, handle, sha in read_members(archive, small=True):
        data = handle.read()
        if hashlib.sha256(data).hexdigest() != sha:
            raise ArchiveError(f"{archive.path}: {info.name} changed since it was checked")
        out[info.name] = (info, data)
    return out

"""Write a binary RPM that rpm 4.11.3 / yum 3.4.3 (CentOS 7) accept, without rpmbuild.

One pass over the sources streams the cpio payload through the compressor into a temporary
file while hashing every file (SHA256 file digests) and the compressed payload. The header is
built afterwards (it carries the digests), the legacy digests rpm 4.11 checks (SHA1 header,
MD5 header+payload) are computed over the finished bytes, and the package is assembled in a
temporary file that is renamed into place only when complete: an interrupted build leaves no
``.rpm`` behind. Memory use is bounded by the chunk size, not the package size.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from packager.rpm import tags as t
from packager.rpm.compress import CompressedSink, Compression
from packager.rpm.cpio import MAX_FILE_SIZE, CpioWriter
from packager.rpm.header import Header, HeaderTooLarge
from packager.rpm.model import Dependency, FileEntry, Package, validate
from packager.rpm.policy import check_entries
from packager.rpm.sign import Signer
from packager.rpm.tags import T

_CHUNK = 1 << 20
#: Sizes that rpm 4.11 stores in 32 bits: the sum of files, the payload, header + payload.
MAX_PACKAGE_SIZE = 0xFFFFFFFF
TMP_DIRNAME = ".fate-pkg-tmp"


class BuildError(ValueError):
    """The package cannot be written as asked (a limit, a missing source, a bad field)."""


@dataclass(frozen=True)
class BuildResult:
    path: Path
    name: str
    evr: str
    arch: str
    files: int
    installed_size: int
    payload_size: int
    compressed_size: int
    rpm_size: int
    compression: str
    seconds: float


def source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise BuildError(f"SOURCE_DATE_EPOCH={value!r} is not a whole number of seconds")
    return int(value)


def build_rpm(
    pkg: Package,
    out_dir: Path,
    *,
    compression: Compression | None = None,
    sde: int | None = None,
    signer: Signer | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> BuildResult:
    """Write ``pkg`` into ``out_dir`` and return what was written.

    ``sde`` (SOURCE_DATE_EPOCH) fixes the build time and clamps every mtime, so the same
    inputs give the same bytes. ``on_bytes`` is called with source bytes as they are read.
    """
    started = time.monotonic()
    comp = compression or Compression()
    try:
        comp.validate()
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    problems = validate(pkg) + check_entries(pkg.files)
    if problems:
        raise BuildError(f"{pkg.name}: " + "; ".join(problems))
    entries = sorted(pkg.files, key=lambda e: e.path.encode("utf-8", "surrogateescape"))
    _check_sizes(pkg.name, entries)
    build_time = sde if sde is not None else int(time.time())

    out_dir.mkdir(parents=True, exist_ok=True)
    # A temporary directory of this build's own: parallel builds into one output directory
    # never remove each other's files.
    tmp_dir = Path(tempfile.mkdtemp(prefix=TMP_DIRNAME + "-", dir=out_dir))
    stem = pkg.nevra_filename
    payload_path = tmp_dir / f"{stem}.payload"
    rpm_tmp = tmp_dir / f"{stem}.rpm"
    final = out_dir / pkg.nevra_filename
    sink: CompressedSink | None = None
    try:
        with open(payload_path, "wb") as payload_file:
            sink = CompressedSink(comp, payload_file)
            records, archive_size = _write_payload(entries, sink, build_time, sde, on_bytes)
            sink.close()
        installed = sum(r.size for r in records)
        if installed > MAX_PACKAGE_SIZE or archive_size > MAX_PACKAGE_SIZE:
            raise BuildError(
                f"{pkg.name}: {max(installed, archive_size)} bytes of files; rpm 4.11 needs "
                "each package below 4 GiB (split it into several RPMs)"
            )
        header = _main_header(pkg, records, installed, comp, sink, build_time)
        try:
            header_bytes = header.encode(t.HEADERIMMUTABLE)
        except HeaderTooLarge as exc:
            raise BuildError(f"{pkg.name}: {exc}") from None
        total = len(header_bytes) + sink.size
        if total > MAX_PACKAGE_SIZE:
            raise BuildError(f"{pkg.name}: header + payload is {total} bytes (limit 4 GiB)")
        md5 = hashlib.md5(header_bytes)
        pgp_sig = None
        with open(payload_path, "rb") as f:
            if signer:
                pgp_sig = signer.sign_stream(_chain(header_bytes, f, md5))
            else:
                for chunk in iter(lambda: f.read(_CHUNK), b""):
                    md5.update(chunk)
        sig = Header()
        sig.add(t.SIG_SHA1, T.STRING, hashlib.sha1(header_bytes).hexdigest())
        sig.add(t.SIG_SHA256, T.STRING, hashlib.sha256(header_bytes).hexdigest())
        sig.add(t.SIG_SIZE, T.INT32, total)
        sig.add(t.SIG_MD5, T.BIN, md5.digest())
        sig.add(t.SIG_PAYLOADSIZE, T.INT32, archive_size)
        if signer:
            sig.add(t.SIG_RSA, T.BIN, signer.sign_bytes(header_bytes))
            sig.add(t.SIG_PGP, T.BIN, pgp_sig)  # type: ignore[arg-type]
        sig_bytes = sig.encode(t.HEADERSIGNATURES)
        sig_bytes += b"\0" * (-len(sig_bytes) % 8)

        with open(rpm_tmp, "wb") as out, open(payload_path, "rb") as payload:
            out.write(_lead(pkg))
            out.write(sig_bytes)
            out.write(header_bytes)
            out.flush()
            _copy(payload, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(rpm_tmp, 0o644)
        os.replace(rpm_tmp, final)
    finally:
        if sink is not None:
            sink.abort()
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return BuildResult(
        path=final, name=pkg.name, evr=pkg.evr, arch=pkg.arch, files=len(records),
        installed_size=installed, payload_size=archive_size, compressed_size=sink.size,
        rpm_size=final.stat().st_size, compression=f"{comp.kind}:{comp.resolved_level()}",
        seconds=time.monotonic() - started,
    )


def _check_sizes(name: str, entries: list[FileEntry]) -> None:
    """Refuse the 4 GiB limits from the sources' sizes before any byte is compressed."""
    total = 0
    for e in entries:
        if e.kind != "file" or e.ghost or e.source is None:
            continue
        try:
            size = os.stat(e.source).st_size
        except OSError as exc:
            raise BuildError(f"{e.path}: cannot read source {e.source}: {exc.strerror}") from None
        if size > MAX_FILE_SIZE:
            raise BuildError(f"{e.path}: {size} bytes; rpm 4.11 needs every file below 4 GiB")
        total += size
    if total > MAX_PACKAGE_SIZE:
        raise BuildError(
            f"{name}: {total} bytes of files; rpm 4.11 needs each package below 4 GiB "
            "(split it into several RPMs)"
        )


def clean_stale_temporaries(out_dir: Path) -> None:
    """Remove what killed builds (SIGKILL, power loss) left in ``out_dir``.

    Call it only when no other build writes into ``out_dir`` at the same time.
    """
    for stale in out_dir.glob(TMP_DIRNAME + "*"):
        shutil.rmtree(stale, ignore_errors=True)


@dataclass
class _Record:
    entry: FileEntry
    mode: int
    size: int
    mtime: int
    digest: str


def _write_payload(
    entries: list[FileEntry],
    sink: CompressedSink,
    build_time: int,
    sde: int | None,
    on_bytes: Callable[[int], None] | None,
) -> tuple[list[_Record], int]:
    cpio = CpioWriter(sink.write)
    records = []
    for ino, e in enumerate(entries, start=1):
        name = "." + e.path
        mtime = e.mtime
        if e.kind == "file":
            mode = stat.S_IFREG | (e.perm & 0o7777)
            if e.ghost:
                records.append(_Record(e, mode, 0, _clamp(mtime or build_time, sde), ""))
                continue
            src = e.source
            try:
                st = os.stat(src)  # type: ignore[arg-type]
                f = open(src, "rb")  # type: ignore[arg-type]
            except OSError as exc:
                raise BuildError(f"{e.path}: cannot read source {src}: {exc.strerror}") from None
            if not stat.S_ISREG(st.st_mode):
                f.close()
                raise BuildError(f"{e.path}: source {src} is not a regular file")
            if st.st_size > MAX_FILE_SIZE:
                f.close()
                raise BuildError(
                    f"{e.path}: {st.st_size} bytes; rpm 4.11 needs every file below 4 GiB"
                )
            mtime = _clamp(st.st_mtime_ns // 10**9 if mtime is None else mtime, sde)
            digest = hashlib.sha256()
            with f:
                cpio.begin(name, ino, mode, mtime, st.st_size)
                remaining = st.st_size
                while remaining:
                    chunk = f.read(min(_CHUNK, remaining))
                    if not chunk:
                        raise BuildError(f"{e.path}: source {src} shrank while being packaged")
                    digest.update(chunk)
                    cpio.data(chunk)
                    remaining -= len(chunk)
                    if on_bytes:
                        on_bytes(len(chunk))
                if f.read(1):
                    raise BuildError(f"{e.path}: source {src} grew while being packaged")
                cpio.end()
            records.append(_Record(e, mode, st.st_size, mtime, digest.hexdigest()))
        elif e.kind == "dir":
            mode = stat.S_IFDIR | (e.perm & 0o7777)
            mtime = _clamp(build_time if mtime is None else mtime, sde)
            if not e.ghost:
                cpio.add(name, ino, mode, mtime)
            records.append(_Record(e, mode, 0, mtime, ""))
        else:  # symlink
            mode = stat.S_IFLNK | 0o777
            mtime = _clamp(build_time if mtime is None else mtime, sde)
            target = e.link_target.encode("utf-8", "surrogateescape")
            if not e.ghost:
                cpio.add(name, ino, mode, mtime, target)
            records.append(_Record(e, mode, len(target), mtime, ""))
    cpio.finish()
    return records, cpio.size


def _clamp(mtime: int, sde: int | None) -> int:
    return min(int(mtime), sde) if sde is not None else int(mtime)


def _main_header(
    pkg: Package,
    records: list[_Record],
    installed: int,
    comp: Compression,
    sink: CompressedSink,
    build_time: int,
) -> Header:
    h = Header()
    h.add(t.HEADERI18NTABLE, T.STRING_ARRAY, ["C"])
    h.add(t.NAME, T.STRING, pkg.name)
    h.add(t.VERSION, T.STRING, pkg.version)
    h.add(t.RELEASE, T.STRING, pkg.release)
    if pkg.epoch is not None:
        h.add(t.EPOCH, T.INT32, pkg.epoch)
    h.add(t.SUMMARY, T.I18NSTRING, pkg.summary.strip())
    h.add(t.DESCRIPTION, T.I18NSTRING, (pkg.description or pkg.summary).strip())
    h.add(t.BUILDTIME, T.INT32, build_time)
    h.add(t.BUILDHOST, T.STRING, pkg.buildhost)
    h.add(t.SIZE, T.INT32, installed)
    if pkg.vendor:
        h.add(t.VENDOR, T.STRING, pkg.vendor)
    h.add(t.LICENSE, T.STRING, pkg.license)
    if pkg.packager:
        h.add(t.PACKAGER, T.STRING, pkg.packager)
    h.add(t.GROUP, T.I18NSTRING, pkg.group)
    if pkg.url:
        h.add(t.URL, T.STRING, pkg.url)
    h.add(t.OS, T.STRING, "linux")
    h.add(t.ARCH, T.STRING, pkg.arch)
    h.add(t.SOURCERPM, T.STRING, f"{pkg.name}-{pkg.version}-{pkg.release}.src.rpm")
    h.add(t.RPMVERSION, T.STRING, "4.11.3")
    h.add(t.PLATFORM, T.STRING, f"{pkg.arch}-redhat-linux-gnu")
    h.add(t.PAYLOADFORMAT, T.STRING, "cpio")
    h.add(t.PAYLOADCOMPRESSOR, T.STRING, comp.kind)
    h.add(t.PAYLOADFLAGS, T.STRING, str(comp.resolved_level()))
    # EL8+ verify the compressed payload with this; rpm 4.11 stores it unread (harmless).
    h.add(t.PAYLOADDIGEST, T.STRING_ARRAY, [sink.sha256.hexdigest()])
    h.add(t.PAYLOADDIGESTALGO, T.INT32, t.DIGEST_SHA256)

    for slot, script in pkg.scripts.items():
        tag, prog_tag, _ = t.SCRIPTLETS[slot]
        h.add(tag, T.STRING, script.body)
        h.add(prog_tag, T.STRING, script.interpreter)

    if records:
        _file_tags(h, records)
    requires, provides = _dependencies(pkg, comp, any(r.entry.flags & t.FILE_CONFIG
                                                      for r in records))
    _dep_tags(h, requires, t.REQUIRENAME, t.REQUIREFLAGS, t.REQUIREVERSION)
    _dep_tags(h, provides, t.PROVIDENAME, t.PROVIDEFLAGS, t.PROVIDEVERSION)
    _dep_tags(h, sorted(set(pkg.conflicts)), t.CONFLICTNAME, t.CONFLICTFLAGS, t.CONFLICTVERSION)
    _dep_tags(h, sorted(set(pkg.obsoletes)), t.OBSOLETENAME, t.OBSOLETEFLAGS, t.OBSOLETEVERSION)
    return h


def _file_tags(h: Header, records: list[_Record]) -> None:
    dirnames: dict[str, int] = {}
    dirindexes, basenames = [], []
    for r in records:
        d, _, base = r.entry.path.rpartition("/")
        d += "/"
        dirindexes.append(dirnames.setdefault(d, len(dirnames)))
        basenames.append(base)
    ghost_verify = ~0 & ~(1 | 2 | 8 | 16)  # not digest, size, linkto, mtime
    h.add(t.FILESIZES, T.INT32, [r.size for r in records])
    h.add(t.FILEMODES, T.INT16, [r.mode for r in records])
    h.add(t.FILERDEVS, T.INT16, [0] * len(records))
    h.add(t.FILEMTIMES, T.INT32, [r.mtime for r in records])
    h.add(t.FILEDIGESTS, T.STRING_ARRAY, [r.digest for r in records])
    h.add(t.FILELINKTOS, T.STRING_ARRAY, [r.entry.link_target for r in records])
    h.add(t.FILEFLAGS, T.INT32, [r.entry.flags for r in records])
    h.add(t.FILEUSERNAME, T.STRING_ARRAY, [r.entry.owner for r in records])
    h.add(t.FILEGROUPNAME, T.STRING_ARRAY, [r.entry.group for r in records])
    h.add(t.FILEVERIFYFLAGS, T.INT32,
          [ghost_verify if r.entry.ghost else 0xFFFFFFFF for r in records])
    h.add(t.FILEDEVICES, T.INT32, [1] * len(records))
    h.add(t.FILEINODES, T.INT32, list(range(1, len(records) + 1)))
    h.add(t.FILELANGS, T.STRING_ARRAY, [""] * len(records))
    h.add(t.DIRINDEXES, T.INT32, dirindexes)
    h.add(t.BASENAMES, T.STRING_ARRAY, basenames)
    h.add(t.DIRNAMES, T.STRING_ARRAY, list(dirnames))
    h.add(t.FILEDIGESTALGO, T.INT32, t.DIGEST_SHA256)


def _dependencies(
    pkg: Package, comp: Compression, has_config: bool
) -> tuple[list[Dependency], list[Dependency]]:
    lib = t.SENSE_RPMLIB | t.SENSE_LESS | t.SENSE_EQUAL
    features = ["rpmlib(CompressedFileNames)", "rpmlib(FileDigests)",
                "rpmlib(PayloadFilesHavePrefix)"]
    if comp.kind == "xz":
        features.append("rpmlib(PayloadIsXz)")
    user_deps = pkg.requires + pkg.provides + pkg.conflicts + pkg.obsoletes
    if any(d.version for d in user_deps):
        features.append("rpmlib(VersionedDependencies)")
    requires = set(pkg.requires)
    requires.update(Dependency(f, lib, t.RPMLIB_ALLOWED[f]) for f in features)
    for slot, script in pkg.scripts.items():
        requires.add(Dependency(script.interpreter, t.SENSE_INTERP | t.SCRIPTLETS[slot][2]))
    provides = set(pkg.provides)
    provides.add(Dependency(pkg.name, t.SENSE_EQUAL, pkg.evr))
    if pkg.arch == "x86_64":
        provides.add(Dependency(f"{pkg.name}(x86-64)", t.SENSE_EQUAL, pkg.evr))
    if has_config:
        cfg = Dependency(f"config({pkg.name})", t.SENSE_EQUAL | t.SENSE_CONFIG, pkg.evr)
        provides.add(cfg)
        requires.add(cfg)
    return sorted(requires), sorted(provides)


def _dep_tags(h: Header, deps: list[Dependency], name: int, flags: int, version: int) -> None:
    if deps:
        h.add(name, T.STRING_ARRAY, [d.name for d in deps])
        h.add(flags, T.INT32, [d.flags for d in deps])
        h.add(version, T.STRING_ARRAY, [d.version for d in deps])


def _lead(pkg: Package) -> bytes:
    """The 96-byte legacy lead; rpm 4.x only checks its magic, but it must be well formed."""
    name = f"{pkg.name}-{pkg.version}-{pkg.release}".encode()[:65]
    archnum = 1 if pkg.arch == "x86_64" else 0
    return struct.pack(">4sBBhh66shh16s", b"\xed\xab\xee\xdb", 3, 0, 0, archnum, name, 1, 5,
                       b"")


def _chain(header: bytes, payload, md5):
    """Yield header then payload chunks, feeding the MD5 on the way (one read of the payload)."""
    md5_update = md5.update
    yield header
    for chunk in iter(lambda: payload.read(_CHUNK), b""):
        md5_update(chunk)
        yield chunk


def _copy(src, dst) -> None:
    try:
        while os.copy_file_range(src.fileno(), dst.fileno(), 1 << 30):
            pass
    except OSError:
        shutil.copyfileobj(src, dst, _CHUNK)




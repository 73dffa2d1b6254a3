"""yum repository metadata for the bundle, in the form CentOS 7's yum 3.4.3 reads.

createrepo_c's Python bindings write it (no createrepo CLI needed, and the PyPI CLI would
default to zstd, which yum 3.4.3 cannot read): primary/filelists/other as gzip XML *and*
as bz2-compressed sqlite databases (yum 3.4.3 prefers the ``*_db`` records), sha256
everywhere. createrepo puts file mtimes and "now" into the metadata; here every time is
SOURCE_DATE_EPOCH and the revision is SOURCE_DATE_EPOCH, so the same RPMs give the same
bytes (docs/el7-rules.md 12, 13).

createrepo_c reads every byte of a package to hash it. The bundle knows each RPM's sha256
already (the build recorded it, packager/bundle/writer.py), so createrepo_c is given a copy
of the RPM's first bytes only, lead + signature + header (what its header parser reads,
kilobytes to a few MiB), and the package's checksum and size are then set to the real
file's: the metadata is the same, byte for byte (tests/bundle), without reading
gigabytes.
"""

from __future__ import annotations

import bz2
import gzip
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import BinaryIO, Mapping

import createrepo_c as cr

from packager.filestate import copy_range

YUM_DB_VERSION = 10
_KINDS = (
    ("primary", cr.PrimaryXmlFile, cr.PrimarySqlite),
    ("filelists", cr.FilelistsXmlFile, cr.FilelistsSqlite),
    ("other", cr.OtherXmlFile, cr.OtherSqlite),
)


def write_repodata(repo_dir: Path, rpms: Mapping[str, tuple[Path, str]], epoch: int) -> None:
    """Write ``repo_dir/repodata`` for ``rpms``: location (relative to repo_dir, e.g.
    ``rpms/x.rpm``) -> (the file, its sha256)."""
    repodata = repo_dir / "repodata"
    repodata.mkdir()
    xmls, dbs = [], []
    for kind, xml_cls, db_cls in _KINDS:
        xmls.append(xml_cls(str(repodata / f"{kind}.xml"), cr.NO_COMPRESSION))
        dbs.append(db_cls(str(repodata / f"{kind}.sqlite")))
    for xml in xmls:
        xml.set_num_of_pkgs(len(rpms))
    with tempfile.TemporaryDirectory(prefix=".headers-", dir=repo_dir) as tmp:
        stub = Path(tmp) / "header.rpm"
        for rel in sorted(rpms):
            path, sha256 = rpms[rel]
            pkg = _package(path, sha256, rel, stub)
            # time_file would be the file's mtime: set to SDE rather than by touching
            # the RPM (it is dist/'s own file, or the cache's)
            pkg.time_file = epoch
            for xml, db in zip(xmls, dbs):
                xml.add_pkg(pkg)
                db.add_pkg(pkg)
            # before the next is read: createrepo_c holds every file of it (~200 bytes a
            # path; two 10^5-path parts follow each other: issue #12, the bundle's peak)
            del pkg
    for xml in xmls:
        xml.close()

    repomd = cr.Repomd()
    repomd.set_revision(str(epoch))
    for (kind, _, _), db in zip(_KINDS, dbs):
        xml = _compressed(repodata / f"{kind}.xml", ".gz")
        xml_rec = cr.RepomdRecord(kind, str(xml))
        xml_rec.fill(cr.SHA256)
        db.dbinfo_update(xml_rec.checksum)
        db.close()
        db_rec = cr.RepomdRecord(f"{kind}_db", str(_compressed(repodata / f"{kind}.sqlite",
                                                                 ".bz2")))
        db_rec.fill(cr.SHA256)
        # yum 3.4.3 uses a *_db record only when its database_version is 10 (its
        # DBVERSION); the bindings leave 0, and yum would silently rebuild from the XML.
        db_rec.db_ver = YUM_DB_VERSION
        for rec in (xml_rec, db_rec):
            rec.set_timestamp(epoch)
            rec.rename_file()  # <sha256>-<kind>...: a stale cached copy can never match
            repomd.set_record(rec)
    repomd.sort_records()
    (repodata / "repomd.xml").write_text(repomd.xml_dump())
    for p in repodata.iterdir():
        os.utime(p, (epoch, epoch))


def _compressed(path: Path, suffix: str) -> Path:
    """``path`` gzip'ed or bzip2'ed at level 1, streamed, and removed; returns the new file.

    Not createrepo_c's own compression: its gzip and bzip2 (level 9) took 2.5 s of one core
    for the filelists of 65k paths, level 1 takes 0.7 s and makes them 15 % bigger (about
    200 KB in a 2 GB bundle). No name and no time in the gzip header: same bytes always.
    """
    out = path.with_name(path.name + suffix)
    with open(path, "rb") as src, open(out, "wb") as raw:
        if suffix == ".gz":
            dst: BinaryIO = gzip.GzipFile(filename="", mode="wb", compresslevel=1,
                                          fileobj=raw, mtime=0)
        else:
            dst = bz2.BZ2File(raw, "wb", compresslevel=1)
        with dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    path.unlink()
    return out


def _package(path: Path, sha256: str, rel: str, stub: Path) -> cr.Package:
    """createrepo_c's package for ``path`` read from its header alone (into ``stub``)."""
    with open(path, "rb") as f, open(stub, "wb") as out:
        size = os.fstat(f.fileno()).st_size
        head = min(size, payload_offset(f))
        f.seek(0)
        copy_range(f.fileno(), out.fileno(), head)
    pkg = cr.package_from_rpm(str(stub), cr.SHA256, rel, None, 10)
    pkg.pkgId = sha256
    pkg.size_package = size
    return pkg


def payload_offset(f: BinaryIO) -> int:
    """Where the payload starts: after the 96-byte lead, the signature header (padded to
    8 bytes) and the main header; each header is a 16-byte intro (magic, reserved,
    entry count, data length), 16 bytes per entry, then its data. Moves ``f``."""
    offset = 96
    for pad in (8, 1):
        f.seek(offset)
        intro = f.read(16)
        if len(intro) < 16:
            return offset  # not an RPM: createrepo_c will say so
        count, length = struct.unpack(">II", intro[8:16])
        offset += 16 + 16 * count + length
        offset += -offset % pad
    return offset

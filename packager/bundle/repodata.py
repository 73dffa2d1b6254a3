"""yum repository metadata for the bundle, in the form CentOS 7's yum 3.4.3 reads.

createrepo_c's Python bindings write it (no createrepo CLI needed, and the PyPI CLI would
default to zstd, which yum 3.4.3 cannot read): primary/filelists/other as gzip XML *and*
as bz2-compressed sqlite databases (yum 3.4.3 prefers the ``*_db`` records), sha256
everywhere. createrepo puts file mtimes and "now" into the metadata; here every time is
SOURCE_DATE_EPOCH and the revision is SOURCE_DATE_EPOCH, so the same RPMs give the same
bytes (docs/el7-rules.md 12, 13).
"""

from __future__ import annotations

import os
from pathlib import Path

import createrepo_c as cr

YUM_DB_VERSION = 10
_KINDS = (
    ("primary", cr.PrimaryXmlFile, cr.PrimarySqlite),
    ("filelists", cr.FilelistsXmlFile, cr.FilelistsSqlite),
    ("other", cr.OtherXmlFile, cr.OtherSqlite),
)


def write_repodata(repo_dir: Path, rpm_paths: list[str], epoch: int) -> dict[str, str]:
    """Write ``repo_dir/repodata`` for the RPMs at ``rpm_paths`` (relative to repo_dir).

    Returns each RPM's sha256 (createrepo_c reads every byte for the pkgid anyway), so
    SHA256SUMS need not read gigabytes of RPMs a second time.
    """
    repodata = repo_dir / "repodata"
    repodata.mkdir()
    xmls, dbs = [], []
    for kind, xml_cls, db_cls in _KINDS:
        xmls.append(xml_cls(str(repodata / f"{kind}.xml.gz"), cr.GZ_COMPRESSION))
        dbs.append(db_cls(str(repodata / f"{kind}.sqlite")))
    for xml in xmls:
        xml.set_num_of_pkgs(len(rpm_paths))
    digests: dict[str, str] = {}
    for rel in sorted(rpm_paths):
        # time_file would be the file's mtime: the bundle's RPMs may be hard links into
        # dist/, so the time is set here rather than by touching the file.
        pkg = cr.package_from_rpm(str(repo_dir / rel), cr.SHA256, rel, None, 10)
        pkg.time_file = epoch
        digests[rel] = pkg.pkgId
        for xml, db in zip(xmls, dbs):
            xml.add_pkg(pkg)
            db.add_pkg(pkg)
    for xml in xmls:
        xml.close()

    repomd = cr.Repomd()
    repomd.set_revision(str(epoch))
    for (kind, _, _), db in zip(_KINDS, dbs):
        xml_rec = cr.RepomdRecord(kind, str(repodata / f"{kind}.xml.gz"))
        xml_rec.fill(cr.SHA256)
        db.dbinfo_update(xml_rec.checksum)
        db.close()
        sqlite = repodata / f"{kind}.sqlite"
        cr.compress_file(str(sqlite), str(sqlite) + ".bz2", cr.BZ2_COMPRESSION)
        sqlite.unlink()
        db_rec = cr.RepomdRecord(f"{kind}_db", str(sqlite) + ".bz2")
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
    return digests

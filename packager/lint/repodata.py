"""Rule 13: repository metadata yum 3.4.3 reads (and the parsing ``verify`` shares).

yum 3.4.3 reads ``repomd.xml`` and the gzip-compressed XML (or bzip2 sqlite) it lists;
createrepo_c >= 1.0 defaults to zstd, which CentOS 7 cannot open, and checksums other
than sha256 are weaker than what we promise. The compression is judged by the files'
first bytes, not only by their names.
"""

from __future__ import annotations

import configparser
import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from packager.lint.finding import Finding
from packager.lint.payload import sniff
from packager.repomd import Record, RepomdError, parse_repomd

COMMON_NS = "{http://linux.duke.edu/metadata/common}"
REQUIRED = ("primary", "filelists", "other")


class RepodataError(ValueError):
    pass


@dataclass(frozen=True)
class PackageEntry:
    name: str
    href: str
    checksum_type: str
    checksum: str
    size: int | None


def read_repomd(repo: Path) -> list[Record]:
    path = repo / "repodata" / "repomd.xml"
    try:
        return parse_repomd(path.read_bytes(), str(path))[0]
    except OSError as exc:
        raise RepodataError(f"{path}: cannot read: {exc.strerror}") from None
    except RepomdError as exc:
        raise RepodataError(str(exc)) from None


def read_primary(repo: Path, record: Record) -> list[PackageEntry]:
    path = repo / record.href
    try:
        with gzip.open(path) as f:
            root = ET.parse(f).getroot()
    except (OSError, EOFError, ET.ParseError) as exc:
        raise RepodataError(f"{path}: cannot read: {exc}") from None
    out = []
    for pkg in root.findall(f"{COMMON_NS}package"):
        loc = pkg.find(f"{COMMON_NS}location")
        csum = pkg.find(f"{COMMON_NS}checksum")
        size = pkg.find(f"{COMMON_NS}size")
        name = pkg.findtext(f"{COMMON_NS}name") or "?"
        out.append(PackageEntry(
            name, loc.get("href", "") if loc is not None else "",
            csum.get("type", "") if csum is not None else "",
            (csum.text or "").strip() if csum is not None else "",
            int(size.get("package", "")) if size is not None
            and size.get("package", "").isdigit() else None))
    return out


def check_repodata(repo: Path, artifact: str) -> list[Finding]:
    """Rule 13 on ``repo`` (the directory holding ``repodata/``)."""
    try:
        records = read_repomd(repo)
    except RepodataError as exc:
        return [Finding("13", artifact, str(exc))]
    found = []
    types = {r.type for r in records}
    for missing in REQUIRED:
        if missing not in types:
            found.append(Finding("13", artifact, f"repomd.xml lists no {missing} metadata"))
    for r in records:
        where = f"{artifact}/{r.href}"
        if r.checksum_type != "sha256":
            found.append(Finding("13", where, f"{r.type}: checksum type {r.checksum_type!r}, "
                                 "sha256 expected"))
        if r.open_checksum_type not in (None, "sha256"):
            found.append(Finding("13", where, f"{r.type}: open-checksum type "
                                 f"{r.open_checksum_type!r}, sha256 expected"))
        try:
            with open(repo / r.href, "rb") as f:
                fmt = sniff(f.read(8))
        except OSError as exc:
            found.append(Finding("13", where, f"{r.type}: cannot read: {exc.strerror}"))
            continue
        is_db = r.type.endswith("_db")
        allowed = ("gzip", "bzip2") if is_db else ("gzip",)
        if fmt not in allowed or r.href.endswith((".zst", ".xz", ".zck")):
            found.append(Finding("13", where, f"{r.type} is {fmt}-compressed; yum 3.4.3 "
                                 f"needs {' or '.join(allowed)} (createrepo_c: GZ_COMPRESSION "
                                 "or --compatibility)"))
    return found


def check_repo_file(repo_file: Path, artifact: str, key_present: bool) -> list[Finding]:
    """Rule 13: the bundle's ``.repo`` checks signatures with the bundle's own key."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(repo_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        return [Finding("13", artifact, f"not a readable yum .repo file: {exc}")]
    found = []
    if not parser.sections():
        found.append(Finding("13", artifact, "defines no repository"))
    for name in parser.sections():
        section = parser[name]
        gpgcheck = section.get("gpgcheck", "0").strip()
        if "baseurl" not in section:
            found.append(Finding("13", artifact, f"[{name}] has no baseurl"))
        if key_present and gpgcheck != "1":
            found.append(Finding("13", artifact, f"[{name}] gpgcheck={gpgcheck}, but the "
                                 "bundle carries its key: set gpgcheck=1"))
        if gpgcheck == "1" and not section.get("gpgkey", "").strip():
            found.append(Finding("13", artifact, f"[{name}] gpgcheck=1 without gpgkey="))
        if gpgcheck == "1" and not key_present:
            found.append(Finding("13", artifact, f"[{name}] gpgcheck=1, but the bundle has "
                                 "no RPM-GPG-KEY-fate"))
    return found

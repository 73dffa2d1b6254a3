"""``repodata/repomd.xml``: the index of a yum repository, parsed in one place.

Its own module, outside ``packager.repo``, so that the lint does not import HTTP
libraries (urllib3 probes IPv6 with a socket at import time, which the offline guard of
``build`` rightly counts). Both the OS-closure reader (remote mirrors,
:mod:`packager.repo.metadata`) and the bundle's repodata check (:mod:`packager.lint.repodata`)
start here; each then asks what it needs (the primary entry, or that primary/filelists/other
are all present).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

REPO_NS = "{http://linux.duke.edu/metadata/repo}"


class RepomdError(ValueError):
    """Not a repomd document, or an entry without location or checksum."""


@dataclass(frozen=True)
class Record:
    """One ``<data type=...>`` entry."""

    type: str
    href: str
    checksum_type: str
    checksum: str
    open_checksum_type: str | None
    size: int | None

    @property
    def leaves_repo(self) -> bool:
        """An href that would point outside the repository (absolute, or through ``..``)."""
        return self.href.startswith("/") or ".." in self.href.split("/")


def parse_repomd(data: bytes, source: str) -> tuple[list[Record], str]:
    """The entries and the revision of a repomd.xml; ``source`` names it in errors."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise RepomdError(f"{source}: not XML: {exc}") from None
    if root.tag != f"{REPO_NS}repomd":
        raise RepomdError(f"{source}: not a yum repomd document")
    records = []
    for entry in root.findall(f"{REPO_NS}data"):
        loc = entry.find(f"{REPO_NS}location")
        csum = entry.find(f"{REPO_NS}checksum")
        if loc is None or not loc.get("href") or csum is None or not (csum.text or "").strip():
            raise RepomdError(f"{source}: <data type={entry.get('type')!r}> has no location "
                              "or checksum")
        open_csum = entry.find(f"{REPO_NS}open-checksum")
        size = (entry.findtext(f"{REPO_NS}size") or "").strip()
        records.append(Record(
            entry.get("type", ""), loc.get("href", ""), csum.get("type", ""),
            (csum.text or "").strip().lower(),
            open_csum.get("type") if open_csum is not None else None,
            int(size) if size.isdigit() else None))
    return records, (root.findtext(f"{REPO_NS}revision") or "").strip()

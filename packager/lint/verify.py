"""``verify_bundle``: is this bundle complete and unchanged since it was made?

What yum and an operator rely on, checked from the bundle alone:

* ``SHA256SUMS`` lists every file (and nothing else), each hash matches;
* ``SHA256SUMS.asc``, when present, is a good signature by the bundle's own
  ``RPM-GPG-KEY-fate`` (a temporary keyring: the user's keys play no part);
* every RPM passes what ``rpm -K`` checks on EL7: SHA1 of the header, MD5 and SIZE of
  header+payload, and when signed the RSA (header) and PGP (header+payload) signatures;
* ``repodata/`` matches the RPMs: each metadata file's checksum, each primary.xml
  package's location, checksum and size, and every RPM listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from packager.filestate import sha256_file
from packager.lint import bundle
from packager.lint.finding import Finding
from packager.lint.gpg import Keyring
from packager.lint.repodata import RepodataError, read_primary, read_repomd
from packager.rpm import tags as t
from packager.rpm.reader import NotAnRpm, RpmFile, read_rpm

_SUM_LINE = re.compile(r"^(?P<hex>[0-9a-fA-F]{64}) [ *](?P<path>.+)$")
_RPM_CHECKS = {"sha1": "SHA1 header digest", "md5": "MD5 header+payload digest",
               "size": "SIZE (header+payload length)", "sha256": "SHA256 header digest",
               "payload-sha256": "payload SHA256 digest"}


@dataclass
class VerifySummary:
    """What a verify run looked at, so its verdict can say so (an unsigned bundle that is
    intact is not the same as a signed one)."""

    files: int = 0  # files whose SHA256 was compared with SHA256SUMS
    sums_signed: bool = False  # SHA256SUMS.asc present
    key: bool = False  # the bundle carries RPM-GPG-KEY-fate
    rpms: int = 0
    rpms_signed: int = 0
    repodata_packages: int = 0  # primary.xml entries compared with the RPMs


def verify_bundle(path: Path | str, summary: VerifySummary | None = None) -> list[Finding]:
    """Every integrity problem of the bundle at ``path`` (tarball or directory)."""
    summary = summary if summary is not None else VerifySummary()
    with bundle.opened(Path(path)) as opened:
        root = bundle.bundle_root(opened)
        label = str(path) if root == opened else f"{path}/{root.relative_to(opened)}"
        findings = _layout(root, label)
        hashes: dict[str, str] = {}
        findings += _sums(root, label, hashes)
        summary.files = len(hashes)
        key = root / bundle.KEY_NAME
        summary.key = key.is_file()
        summary.sums_signed = (root / bundle.SUMS_SIG).is_file()
        keyring = Keyring(key) if key.is_file() else None
        try:
            if keyring is not None and not keyring.imported:
                findings.append(Finding("signature", f"{label}/{bundle.KEY_NAME}",
                                        f"not an importable public key: {keyring.error}"))
                keyring.close()
                keyring = None
            findings += _sums_signature(root, label, keyring, key.is_file())
            for rpm in sorted(root.rglob("*.rpm")):
                findings += _rpm(rpm, f"{label}/{rpm.relative_to(root)}", keyring, key.is_file(),
                                 summary)
        finally:
            if keyring is not None:
                keyring.close()
        findings += _repodata(root, label, hashes, summary)
    return sorted(set(findings))


def _layout(root: Path, label: str) -> list[Finding]:
    out = []
    for name in bundle.REQUIRED:
        if not (root / name).exists():
            out.append(Finding("layout", label, f"{name} is missing"))
    return out


def _files(root: Path) -> Iterator[str]:
    for p in sorted(root.rglob("*")):
        if p.is_file() or p.is_symlink():
            yield p.relative_to(root).as_posix()


def _sums(root: Path, label: str, hashes: dict[str, str]) -> list[Finding]:
    sums = root / bundle.SUMS
    if not sums.is_file():
        return []  # reported by _layout
    out = []
    listed: dict[str, str] = {}
    for lineno, line in enumerate(sums.read_text(encoding="utf-8", errors="replace")
                                  .splitlines(), 1):
        if not line.strip():
            continue
        m = _SUM_LINE.match(line)
        rel = m.group("path").removeprefix("./") if m else ""
        if not m or rel.startswith("/") or ".." in rel.split("/"):
            out.append(Finding("sums", f"{label}/{bundle.SUMS}",
                               f"line {lineno} is not '<sha256>  <relative path>': {line[:80]!r}"))
            continue
        listed[rel] = m.group("hex").lower()
    present = set(_files(root)) - {bundle.SUMS, bundle.SUMS_SIG}
    for rel, expected in sorted(listed.items()):
        target = root / rel
        if rel not in present:
            out.append(Finding("sums", f"{label}/{rel}", "listed in SHA256SUMS but missing"))
            continue
        actual = sha256_file(target)
        hashes[rel] = actual
        if actual != expected:
            out.append(Finding("sums", f"{label}/{rel}", "SHA256 does not match SHA256SUMS "
                               "(changed or corrupted)"))
    for rel in sorted(present - set(listed)):
        out.append(Finding("sums", f"{label}/{rel}", "not listed in SHA256SUMS"))
    return out


def _sums_signature(root: Path, label: str, keyring: Keyring | None,
                    has_key: bool) -> list[Finding]:
    sig = root / bundle.SUMS_SIG
    where = f"{label}/{bundle.SUMS_SIG}"
    if not sig.is_file():
        if has_key:
            return [Finding("signature", where, f"missing, though the bundle carries "
                            f"{bundle.KEY_NAME}")]
        return []
    if keyring is None:
        return [Finding("signature", where, f"present, but the bundle has no usable "
                        f"{bundle.KEY_NAME} to check it with")]
    sums = root / bundle.SUMS
    if not sums.is_file():
        return []
    why = keyring.verify(sig.read_bytes(), [sums.read_bytes()])
    return [Finding("signature", where, why)] if why else []


def _rpm(path: Path, label: str, keyring: Keyring | None, has_key: bool,
         summary: VerifySummary) -> list[Finding]:
    summary.rpms += 1
    try:
        rpm = read_rpm(path)
    except (OSError, NotAnRpm, ValueError) as exc:
        return [Finding("digest", label, f"not a readable RPM: {exc}")]
    if any(tag in rpm.signature.values for tag in (t.SIG_RSA, t.SIG_DSA, t.SIG_PGP, t.SIG_GPG)):
        summary.rpms_signed += 1
    out = []
    try:
        results = rpm.compute_digests()
    except (OSError, TypeError, IndexError) as exc:
        return [Finding("digest", label, f"cannot compute digests: {exc}")]
    for check in ("sha1", "md5", "size"):
        if check not in results or not results[check]:
            out.append(Finding("digest", label, f"{_RPM_CHECKS[check]} does not match "
                               "(rpm -K: NOT OK)"))
    for check in ("sha256", "payload-sha256"):
        if results.get(check) is False:
            out.append(Finding("digest", label, f"{_RPM_CHECKS[check]} does not match"))
    out += _rpm_signatures(rpm, label, keyring, has_key)
    return out


def _rpm_signatures(rpm: RpmFile, label: str, keyring: Keyring | None,
                    has_key: bool) -> list[Finding]:
    sig = rpm.signature.values
    header_sig = sig.get(t.SIG_RSA) or sig.get(t.SIG_DSA)
    full_sig = sig.get(t.SIG_PGP) or sig.get(t.SIG_GPG)
    if header_sig is None and full_sig is None:
        if has_key:
            return [Finding("signature", label, f"unsigned, but the bundle ships "
                            f"{bundle.KEY_NAME}: yum with gpgcheck=1 refuses it")]
        return []
    if keyring is None:
        return [Finding("signature", label, f"signed, but the bundle has no usable "
                        f"{bundle.KEY_NAME} to check it with")]
    out = []
    if header_sig is not None:
        why = keyring.verify(header_sig, [rpm.header_bytes])
        if why:
            out.append(Finding("signature", label, f"header signature (RSA): {why}"))
    if full_sig is not None:
        why = keyring.verify(full_sig, _header_and_payload(rpm))
        if why:
            out.append(Finding("signature", label, f"header+payload signature (PGP): {why}"))
    return out


def _header_and_payload(rpm: RpmFile) -> Iterator[bytes]:
    yield rpm.header_bytes
    yield from rpm.payload()


def _repodata(root: Path, label: str, hashes: dict[str, str],
              summary: VerifySummary) -> list[Finding]:
    if not (root / "repodata" / "repomd.xml").is_file():
        return []  # reported by _layout
    where = f"{label}/repodata"
    try:
        records = read_repomd(root)
    except RepodataError as exc:
        return [Finding("repodata", where, str(exc))]
    out = []
    listed: set[str] = set()
    for rec in records:
        meta = root / rec.href
        if not meta.is_file():
            out.append(Finding("repodata", f"{label}/{rec.href}", f"{rec.type}: listed in "
                               "repomd.xml but missing"))
            continue
        if rec.checksum_type == "sha256" and sha256_file(meta) != rec.checksum:
            out.append(Finding("repodata", f"{label}/{rec.href}", f"{rec.type}: checksum "
                               "does not match repomd.xml"))
        if rec.type != "primary":
            continue
        try:
            entries = read_primary(root, rec)
        except RepodataError as exc:
            out.append(Finding("repodata", f"{label}/{rec.href}", str(exc)))
            continue
        for entry in entries:
            summary.repodata_packages += 1
            listed.add(entry.href)
            rpm = root / entry.href
            at = f"{label}/{entry.href}"
            if not entry.href or not rpm.is_file():
                out.append(Finding("repodata", at, f"package {entry.name} is in primary.xml "
                                   "but its file is missing"))
                continue
            if entry.size is not None and rpm.stat().st_size != entry.size:
                out.append(Finding("repodata", at, f"size {rpm.stat().st_size} differs from "
                                   f"primary.xml ({entry.size})"))
            if entry.checksum_type == "sha256":
                actual = hashes.get(entry.href) or sha256_file(rpm)
                if actual != entry.checksum:
                    out.append(Finding("repodata", at, "checksum differs from primary.xml"))
            else:
                out.append(Finding("repodata", at, f"checksum type {entry.checksum_type!r}, "
                                   "sha256 expected"))
    for rpm in sorted(root.rglob("*.rpm")):
        rel = rpm.relative_to(root).as_posix()
        if rel not in listed:
            out.append(Finding("repodata", f"{label}/{rel}", "not listed in repodata "
                               "(yum cannot install it from the repository)"))
    return out

"""el7 rules 1-11 that can be decided from an RPM's lead, signature and main header alone.

Each function takes the parsed package and returns findings; none reads the payload
(``payload_rules`` does that). Rule numbers are those of docs/el7-rules.md.
"""

from __future__ import annotations

import stat
from typing import Callable, Iterator

from packager.lint.finding import Finding
from packager.rpm import tags as t
from packager.rpm.header import HEADER_DATA_MAX, HEADER_TAGS_MAX
from packager.rpm.policy import system_dirs
from packager.rpm.reader import RpmFile
from packager.rpm.sign import SigningError, check_signature_packet

#: Compressors rpm 4.11's rpmio can open (rule 1).
EL7_COMPRESSORS = ("gzip", "xz", "bzip2", "lzma")
#: Every size rpm 4.11 keeps in 32 bits (rule 3).
LIMIT_32 = 0xFFFFFFFF
#: Tags that only rpm >= 4.12 reads: weak dependencies and file triggers (rule 8).
WEAK_DEP_TAGS = {5046: "Recommends", 5049: "Suggests", 5052: "Supplements", 5055: "Enhances"}
FILE_TRIGGER_TAGS = {5066: "file trigger", 5069: "file trigger", 5076: "transaction file trigger",
                     5079: "transaction file trigger"}
#: 64-bit size tags: main header (LONGFILESIZES, LONGSIZE), signature (LONGSIZE, LONGARCHIVESIZE).
LONG_TAGS = {t.LONGFILESIZES: "LONGFILESIZES", t.LONGSIZE: "LONGSIZE"}
SIG_LONG_TAGS = {t.SIG_LONGSIZE: "LONGSIGSIZE", 271: "LONGARCHIVESIZE"}

Rule = Callable[[RpmFile, str], Iterator[Finding]]


def rule1_compressor(rpm: RpmFile, name: str) -> Iterator[Finding]:
    comp = rpm.tag(t.PAYLOADCOMPRESSOR) or "gzip"  # rpm's default when the tag is absent
    if comp not in EL7_COMPRESSORS:
        yield Finding("1", name, f"payload compressor {comp!r}: rpm 4.11 reads only "
                      f"{', '.join(EL7_COMPRESSORS)} (zstd fails with 'cpio: Bad magic')")
    if (rpm.tag(t.PAYLOADFORMAT) or "cpio") != "cpio":
        yield Finding("1", name, f"payload format {rpm.tag(t.PAYLOADFORMAT)!r} is not cpio")


def rule2_rpmlib(rpm: RpmFile, name: str) -> Iterator[Finding]:
    comp = rpm.tag(t.PAYLOADCOMPRESSOR) or "gzip"
    for dep, _flags, _version in rpm.deps("requires"):
        if not dep.startswith("rpmlib("):
            continue
        if dep not in t.RPMLIB_ALLOWED:
            yield Finding("2", name, f"requires {dep}: rpm 4.11 on CentOS 7 does not provide "
                          f"it (allowed: {', '.join(sorted(t.RPMLIB_ALLOWED))})")
        elif dep == "rpmlib(PayloadIsXz)" and comp != "xz":
            yield Finding("2", name, f"requires {dep} but the payload is {comp}")


def rule3_sizes(rpm: RpmFile, name: str) -> Iterator[Finding]:
    for tag, label in LONG_TAGS.items():
        if tag in rpm.header.values:
            yield Finding("3", name, f"header has {label} (64-bit sizes need "
                          "rpmlib(LargeFiles), which rpm 4.11 lacks)")
    for tag, label in SIG_LONG_TAGS.items():
        if tag in rpm.signature.values:
            yield Finding("3", name, f"signature header has {label} (64-bit size)")
    if rpm.file_count() and rpm.header.types.get(t.FILESIZES) != t.T.INT32:
        yield Finding("3", name, "FILESIZES (1028) missing or not 32-bit")
    if rpm.header.types.get(t.SIZE) != t.T.INT32:
        yield Finding("3", name, "SIZE (1009) missing or not 32-bit")
    if rpm.signature.types.get(t.SIG_SIZE) != t.T.INT32:
        yield Finding("3", name, "signature SIZE (1000) missing or not 32-bit")
    for path, size in zip(rpm.iter_filenames(), rpm.header.array(t.FILESIZES)):
        if size >= LIMIT_32:
            yield Finding("3", name, f"{path}: {size} bytes; each file must stay below 4 GiB")
    total = rpm.tag(t.SIZE) or 0
    if total >= LIMIT_32 or rpm.file_size - rpm.header_offset >= LIMIT_32:
        yield Finding("3", name, "package reaches 4 GiB; split it into several RPMs")


def rule4_header_size(rpm: RpmFile, name: str) -> Iterator[Finding]:
    """Both limits rpm 4.11's header loader checks (hdrchkData, hdrchkTags), on both headers."""
    for label, header in (("header", rpm.header), ("signature header", rpm.signature)):
        if header.data_length >= HEADER_DATA_MAX:
            yield Finding("4", name, f"{label} data is {header.data_length} bytes for "
                          f"{rpm.file_count()} files; rpm 4.11 refuses 16 MiB or more "
                          "(HEADER_DATA_MAX; split the package)")
        if header.index_count > HEADER_TAGS_MAX:
            yield Finding("4", name, f"{label} has {header.index_count} index entries; "
                          f"rpm 4.11 refuses more than {HEADER_TAGS_MAX} (hdrchkTags)")


def rule5_digests(rpm: RpmFile, name: str) -> Iterator[Finding]:
    if t.SIG_SHA1 not in rpm.signature.values:
        yield Finding("5", name, "signature header has no SHA1 header digest (269): "
                      "rpm -K on CentOS 7 cannot check the header")
    if t.SIG_MD5 not in rpm.signature.values:
        yield Finding("5", name, "signature header has no MD5 header+payload digest (1004)")


def rule6_signature(rpm: RpmFile, name: str) -> Iterator[Finding]:
    sig = rpm.signature.values
    have = [tag for tag in (t.SIG_RSA, t.SIG_PGP, t.SIG_DSA, t.SIG_GPG) if tag in sig]
    if not have:
        if t.SIG_OPENPGP in sig:
            yield Finding("6", name, "signed only with the rpm 6 OPENPGP tag (278): "
                          "yum 3.4.3 treats the package as unsigned")
        return
    if t.SIG_RSA not in sig and t.SIG_DSA not in sig:
        yield Finding("6", name, "signed, but no header-only signature (RSA 268)")
    if t.SIG_PGP not in sig and t.SIG_GPG not in sig:
        yield Finding("6", name, "signed, but no header+payload signature (PGP 1002)")
    for tag in have:
        try:
            check_signature_packet(rpm.signature.get(tag))
        except SigningError as exc:
            yield Finding("6", name, f"signature tag {tag}: {exc}")


def rule7_file_digests(rpm: RpmFile, name: str) -> Iterator[Finding]:
    if not any(rpm.header.array(t.FILEDIGESTS)):
        return
    algo = rpm.tag(t.FILEDIGESTALGO)
    if algo != t.DIGEST_SHA256:
        shown = "absent (MD5)" if algo is None else str(algo)
        yield Finding("7", name, f"file digest algorithm is {shown}; SHA256 (8) is required "
                      "(MD5 fails on FIPS hosts)")


def rule8_dependencies(rpm: RpmFile, name: str) -> Iterator[Finding]:
    for kind in ("requires", "provides", "conflicts", "obsoletes"):
        for dep, _flags, _version in rpm.deps(kind):
            if dep.lstrip().startswith("("):
                yield Finding("8", name, f"boolean dependency in {kind}: {dep} "
                              "(needs rpm 4.13; CentOS 7 has 4.11)")
    for tag, label in WEAK_DEP_TAGS.items():
        if tag in rpm.header.values:
            yield Finding("8", name, f"{label}: weak dependencies are ignored by rpm 4.11 "
                          "and yum 3.4.3; use Requires or nothing")
    for tag, label in FILE_TRIGGER_TAGS.items():
        if tag in rpm.header.values:
            yield Finding("8", name, f"{label} (tag {tag}): rpm 4.11 never runs it")


def rule9_identity(rpm: RpmFile, name: str) -> Iterator[Finding]:
    if rpm.tag(t.OS) != "linux":
        yield Finding("9", name, f"OS is {rpm.tag(t.OS)!r}, not 'linux'")
    if rpm.tag(t.ARCH) not in ("x86_64", "noarch"):
        yield Finding("9", name, f"arch is {rpm.tag(t.ARCH)!r}, not x86_64 or noarch")
    if not rpm.tag(t.RELEASE):
        yield Finding("9", name, "release is empty")
    if not rpm.tag(t.SOURCERPM):
        yield Finding("9", name, "SOURCERPM is not set: yum treats the package as a source RPM")


def rule10_system_dirs(rpm: RpmFile, name: str) -> Iterator[Finding]:
    owned = system_dirs()
    for path, mode in zip(rpm.iter_filenames(), rpm.header.array(t.FILEMODES)):
        if path.rstrip("/") in owned or path == "/":
            if stat.S_ISLNK(mode):
                continue  # reported by rule 11 as a collision
            yield Finding("10", name, f"owns {path}, a system directory of CentOS 7's own "
                          "packages")


def rule11_links(rpm: RpmFile, name: str) -> Iterator[Finding]:
    modes = rpm.header.array(t.FILEMODES)
    inodes = rpm.header.array(t.FILEINODES)
    devices = rpm.header.array(t.FILEDEVICES)
    # (device, inode) -> the index of the first file with it (its path made again if it is
    # named): a path per regular file held here was the largest part of the rule's memory
    seen: dict[tuple[int, int], int] = {}
    symlinks: set[str] = set()
    for i, (path, mode) in enumerate(zip(rpm.iter_filenames(), modes)):
        if stat.S_ISLNK(mode):
            symlinks.add(path)
            if path in system_dirs():
                yield Finding("11", name, f"{path} is a symlink where CentOS 7 has a real "
                              "directory (cpio: rename failed on install)")
        if stat.S_ISREG(mode) and i < len(inodes) and i < len(devices):
            key = (devices[i], inodes[i])
            if key in seen:
                yield Finding("11", name, f"{path} is a hardlink of {rpm.filename(seen[key])} "
                              "(same inode); write duplicates as separate files")
            seen.setdefault(key, i)
    if not symlinks:
        return
    # Each directory is looked at once: a 90k-file venv has ~10k directories, and walking
    # every file's whole parent chain was the lint's largest per-file cost.
    clean: set[str] = set()
    for path in rpm.iter_filenames():
        chain = []
        parent = path.rpartition("/")[0]
        while parent and parent not in clean:
            if parent in symlinks:
                yield Finding("11", name, f"{path} lies under {parent}, which the package "
                              "ships as a symlink")
                break
            chain.append(parent)
            parent = parent.rpartition("/")[0]
        else:
            clean.update(chain)


RULES: tuple[Rule, ...] = (rule1_compressor, rule2_rpmlib, rule3_sizes, rule4_header_size,
                           rule5_digests, rule6_signature, rule7_file_digests,
                           rule8_dependencies, rule9_identity, rule10_system_dirs, rule11_links)


def check_header(rpm: RpmFile, name: str) -> list[Finding]:
    """All header-level findings for one package."""
    return [f for rule in RULES for f in rule(rpm, name)]

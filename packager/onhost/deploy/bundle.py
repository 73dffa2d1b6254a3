"""The bundle on the controller: intact (SHA256SUMS, its signature when signed), which of
its RPMs each host's packages need (the dependency closure, from repodata), and per host
one tar of only those RPMs and the files that verify them.

The checks are install.sh's, done once here so that a broken bundle stops the run before
any host is touched; install.sh repeats them on every host (``--subset``: on the files
that host got) before yum runs.
"""

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from typing import Dict, Iterable, List, NamedTuple, Optional, Set

REPO_NS = "{http://linux.duke.edu/metadata/repo}"
COMMON_NS = "{http://linux.duke.edu/metadata/common}"
RPM_NS = "{http://linux.duke.edu/metadata/rpm}"
KEY_FILE = "RPM-GPG-KEY-fate"


class BundleError(Exception):
    """The bundle is missing, incomplete or does not match its checksums."""

    exit_code = 2


class Package(NamedTuple):
    name: str
    location: str             # the .rpm, relative to the bundle root (rpms/x.rpm)
    installed: int            # bytes once installed
    archive: int              # bytes of the .rpm
    provides: Set[str]        # its name, its provides and the files primary.xml lists
    requires: Set[str]        # requires and recommends (dnf installs weak deps too)


class Bundle(NamedTuple):
    path: str
    name: str
    packages: Dict[str, Package]   # by name (the first of a name in primary.xml)
    entries: List[Package]         # every package of primary.xml, in its order
    listed: List[str]              # the files SHA256SUMS lists
    providers: Dict[str, List[Package]]  # each name, provide and file: who provides it

    def closure(self, names: Iterable[str]) -> List[Package]:
        """The packages ``names`` need: each of them and, for every requirement, every
        package of the bundle that provides it (FATE's and the OS closure's alike), so
        that whichever provider yum picks, its file is on the host."""
        wanted = set(names)
        todo = [p for p in self.entries if p.name in wanted]
        seen: Dict[str, Package] = {}
        while todo:
            pkg = todo.pop(0)
            if pkg.location in seen:
                continue
            seen[pkg.location] = pkg
            for req in sorted(pkg.requires):
                todo.extend(self.providers.get(req, ()))
        return [p for p in self.entries if p.location in seen]

    def host_files(self, names: Iterable[str]) -> List[str]:
        """What a host running ``names`` gets: every file of the bundle but the RPMs,
        SHA256SUMS (and its signature), and the RPMs of the closure."""
        rpms = {p.location for p in self.closure(names)}
        out = [f for f in self.listed if not f.endswith(".rpm") or f in rpms]
        out += [f for f in ("SHA256SUMS", "SHA256SUMS.asc")
                if os.path.isfile(os.path.join(self.path, f))]
        return sorted(out)

    def need_kib(self, names: Iterable[str]) -> int:
        """Disk for the host's tar, its unpacked tree and the installed packages, in KiB."""
        total = 2 * sum(os.path.getsize(os.path.join(self.path, f))
                        for f in self.host_files(names))
        total += sum(p.installed for p in self.closure(names))
        return total // 1024 + 1


def find_bundle(path: str) -> str:
    """The bundle directory: ``path`` itself or its one ``fate-bundle-*`` child."""
    path = os.path.abspath(path)
    if os.path.isfile(os.path.join(path, "install.sh")):
        return path
    children = sorted(c for c in os.listdir(path) if c.startswith("fate-bundle-")
                      and os.path.isfile(os.path.join(path, c, "install.sh"))) \
        if os.path.isdir(path) else []
    if len(children) == 1:
        return os.path.join(path, children[0])
    raise BundleError(f"{path}: not an unpacked FATE bundle (no install.sh); give --bundle "
                      "DIR, the directory tar xf fate-bundle-*.tar made")


def verify(path: str) -> List[str]:
    """SHA256SUMS lists every file and every file matches; the signature when signed.
    Returns the files SHA256SUMS lists."""
    sums = os.path.join(path, "SHA256SUMS")
    if not os.path.isfile(sums):
        raise BundleError(f"{path}: SHA256SUMS is missing, the bundle cannot be checked")
    listed: Dict[str, str] = {}
    with open(sums, encoding="utf-8") as handle:
        for line in handle:
            digest, _, name = line.rstrip("\n").partition("  ")
            listed[name] = digest
    bad: List[str] = []
    for name, digest in sorted(listed.items()):
        full = os.path.join(path, name)
        if not os.path.isfile(full) or _sha256(full) != digest:
            bad.append(name)
    unlisted = sorted(
        os.path.relpath(os.path.join(d, f), path) for d, _, files in os.walk(path)
        for f in files)
    unlisted = [n for n in unlisted if n not in listed
                and n not in ("SHA256SUMS", "SHA256SUMS.asc")]
    if bad:
        raise BundleError(f"{path}: files do not match SHA256SUMS (corrupted or changed): "
                          + ", ".join(bad[:5]))
    if unlisted:
        raise BundleError(f"{path}: files not listed in SHA256SUMS: " + ", ".join(unlisted[:5]))
    asc = os.path.join(path, "SHA256SUMS.asc")
    if os.path.exists(asc) or os.path.exists(os.path.join(path, KEY_FILE)):
        _verify_signature(path)
    return sorted(listed)


def _verify_signature(path: str) -> None:
    gpg = shutil.which("gpg") or shutil.which("gpg2")
    if gpg is None:
        raise BundleError("the bundle is signed but gpg is not installed here to check it")
    home = tempfile.mkdtemp(prefix="fate-deploy-gpg.")
    try:
        os.chmod(home, 0o700)
        subprocess.run([gpg, "--homedir", home, "--batch", "--quiet", "--import",
                        os.path.join(path, KEY_FILE)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        # bytes: the status lines carry the key's user id in UTF-8, which Python 3.6 in the
        # C locale would decode as ASCII (and fail on) with universal_newlines
        proc = subprocess.run([gpg, "--homedir", home, "--batch", "--status-fd", "1",
                               "--verify", os.path.join(path, "SHA256SUMS.asc"),
                               os.path.join(path, "SHA256SUMS")], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, check=False)
        if proc.returncode != 0 or b"[GNUPG:] VALIDSIG " not in proc.stdout:
            raise BundleError(f"{path}: SHA256SUMS.asc is not a good signature by {KEY_FILE}")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(path: str) -> Bundle:
    """A verified bundle with its packages read from repodata (primary.xml)."""
    listed = verify(path)
    repomd = ET.parse(os.path.join(path, "repodata", "repomd.xml")).getroot()
    href = ""
    for data in repomd.findall(REPO_NS + "data"):
        if data.get("type") == "primary":
            href = data.find(REPO_NS + "location").get("href", "")
    if not href:
        raise BundleError(f"{path}: repodata/repomd.xml names no primary metadata")
    with gzip.open(os.path.join(path, href)) as handle:
        root = ET.parse(handle).getroot()
    entries: List[Package] = []
    for pkg in root.findall(COMMON_NS + "package"):
        name = pkg.findtext(COMMON_NS + "name", "")
        size = pkg.find(COMMON_NS + "size")
        fmt = pkg.find(COMMON_NS + "format")
        location = pkg.find(COMMON_NS + "location")
        files = {f.text or "" for f in fmt.findall(COMMON_NS + "file")} \
            if fmt is not None else set()
        entries.append(Package(
            name, location.get("href", "") if location is not None else "",
            int(size.get("installed", 0)) if size is not None else 0,
            int(size.get("package", 0)) if size is not None else 0,
            _entries(fmt, "provides") | files | {name},
            _entries(fmt, "requires") | _entries(fmt, "recommends")))
    packages: Dict[str, Package] = {}
    providers: Dict[str, List[Package]] = {}  # once: an OS closure lists ~10^5 files
    for entry in entries:
        packages.setdefault(entry.name, entry)
        for item in entry.provides:
            providers.setdefault(item, []).append(entry)
    return Bundle(path, os.path.basename(path), packages, entries, listed, providers)


def _entries(fmt: Optional[ET.Element], kind: str) -> Set[str]:
    node = fmt.find(RPM_NS + kind) if fmt is not None else None
    return {e.get("name", "") for e in node} if node is not None else set()


def tar_for_host(bundle: Bundle, files: List[str], out_dir: str) -> str:
    """One uncompressed tar of ``files`` under the bundle's top directory, and beside that
    directory ``<bundle>.files`` naming them (what install.sh --subset checks are all
    there). Its name is the digest of SHA256SUMS and the list, so hosts with the same
    packages share it and a re-run reuses it byte for byte (the copy to the host is then
    skipped)."""
    os.makedirs(out_dir, exist_ok=True)
    listing = "".join(f + "\n" for f in files).encode("utf-8")
    with open(os.path.join(bundle.path, "SHA256SUMS"), "rb") as handle:
        stamp = hashlib.sha256(handle.read() + b"\0" + listing).hexdigest()[:16]
    tar = os.path.join(out_dir, f"{bundle.name}-{stamp}.tar")
    if os.path.exists(tar):
        return tar
    tmp = tar + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as out:
        info = tarfile.TarInfo(bundle.name + ".files")
        info.size, info.mode, info.mtime = len(listing), 0o644, _mtime(bundle.path)
        info.uname = info.gname = "root"
        out.addfile(info, io.BytesIO(listing))
        for rel in files:
            full = os.path.join(bundle.path, rel)
            info = out.gettarinfo(full, bundle.name + "/" + rel)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with open(full, "rb") as handle:
                out.addfile(info, handle)
    os.replace(tmp, tar)
    return tar


def _mtime(path: str) -> int:
    return int(os.path.getmtime(os.path.join(path, "SHA256SUMS")))

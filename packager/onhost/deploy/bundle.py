"""The bundle on the controller: intact (SHA256SUMS, its signature when signed), what each
host's packages need on disk (repodata), and one tar of it to copy to the hosts.

The checks are install.sh's, done once here so that a broken bundle stops the run before
any host is touched; install.sh repeats them on every host before yum runs.
"""

import gzip
import hashlib
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


class Package(NamedTuple):
    name: str
    installed: int            # bytes once installed
    archive: int              # bytes of the .rpm
    provides: Set[str]
    requires: Set[str]


class Bundle(NamedTuple):
    path: str
    name: str
    packages: Dict[str, Package]

    def closure(self, names: Iterable[str]) -> List[str]:
        """``names`` and every package of the bundle they need, by dependency name."""
        provider: Dict[str, str] = {}
        for pkg in self.packages.values():
            for item in pkg.provides | {pkg.name}:
                provider.setdefault(item, pkg.name)
        todo, seen = list(names), []  # type: List[str], List[str]
        while todo:
            name = todo.pop(0)
            if name in seen or name not in self.packages:
                continue
            seen.append(name)
            todo.extend(provider[r] for r in sorted(self.packages[name].requires)
                        if r in provider)
        return seen

    def need_kib(self, names: Iterable[str]) -> int:
        """Disk for the tar copy, its unpacked tree and the installed packages, in KiB."""
        total = 2 * self.size()
        total += sum(self.packages[n].installed for n in self.closure(names))
        return total // 1024 + 1

    def size(self) -> int:
        return sum(os.path.getsize(os.path.join(d, f))
                   for d, _, files in os.walk(self.path) for f in files)


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


def verify(path: str) -> None:
    """SHA256SUMS lists every file and every file matches; the signature when signed."""
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
        proc = subprocess.run([gpg, "--homedir", home, "--batch", "--status-fd", "1",
                               "--verify", os.path.join(path, "SHA256SUMS.asc"),
                               os.path.join(path, "SHA256SUMS")], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, universal_newlines=True,  # noqa: UP021 (3.6)
                              check=False)
        if proc.returncode != 0 or "VALIDSIG" not in proc.stdout:
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
    verify(path)
    repomd = ET.parse(os.path.join(path, "repodata", "repomd.xml")).getroot()
    href = ""
    for data in repomd.findall(REPO_NS + "data"):
        if data.get("type") == "primary":
            href = data.find(REPO_NS + "location").get("href", "")
    if not href:
        raise BundleError(f"{path}: repodata/repomd.xml names no primary metadata")
    with gzip.open(os.path.join(path, href)) as handle:
        root = ET.parse(handle).getroot()
    packages: Dict[str, Package] = {}
    for pkg in root.findall(COMMON_NS + "package"):
        name = pkg.findtext(COMMON_NS + "name", "")
        size = pkg.find(COMMON_NS + "size")
        fmt = pkg.find(COMMON_NS + "format")

        packages[name] = Package(name, int(size.get("installed", 0)),
                                 int(size.get("package", 0)), _entries(fmt, "provides"),
                                 _entries(fmt, "requires"))
    return Bundle(path, os.path.basename(path), packages)


def _entries(fmt: Optional[ET.Element], kind: str) -> Set[str]:
    node = fmt.find(RPM_NS + kind) if fmt is not None else None
    return {e.get("name", "") for e in node} if node is not None else set()


def tar_for_hosts(bundle: Bundle, out_dir: str) -> str:
    """One uncompressed tar of the bundle directory (made again only when SHA256SUMS
    changed, so the copy to the hosts is skipped on a re-run)."""
    os.makedirs(out_dir, exist_ok=True)
    tar = os.path.join(out_dir, bundle.name + ".tar")
    with open(os.path.join(bundle.path, "SHA256SUMS"), "rb") as handle:
        stamp = hashlib.sha256(handle.read()).hexdigest()
    if os.path.exists(tar) and _read(tar + ".sums") == stamp:
        return tar
    tmp = tar + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as out:
        for directory, dirs, files in os.walk(bundle.path):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(directory, name)
                rel = os.path.relpath(full, os.path.dirname(bundle.path))
                info = out.gettarinfo(full, rel)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                with open(full, "rb") as handle:
                    out.addfile(info, handle)
    os.replace(tmp, tar)
    with open(tar + ".sums", "w") as handle:
        handle.write(stamp)
    return tar


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return ""

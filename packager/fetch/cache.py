"""The content-addressed artifact cache shared by ``fetch`` and ``build``.

Layout under the cache root (``~/.cache/fate-pkg`` unless ``--cache DIR``)::

    sha256/<hex>                 the bytes, read-only; the name *is* the checksum
    verified/<hex>               stat stamp written after the last full hash check
    releases/<release>/<name>    symlink to ../../sha256/<hex>: the per-release name index
    partial/<release>/<name>.part  an interrupted download, resumed with HTTP Range
    tmp/                         staging for atomic renames (same file system as the blobs)

Why content-addressed: two releases that share a file share one blob, a blob is only ever
renamed into place after its hash was checked, and a pinned manifest can find its bytes
without trusting any name. The name index exists for artifacts whose sha256 is not pinned
yet (before ``fetch --record``). Re-hashing a 190 MB JDK on every lookup would make every
build slow, so a blob is re-hashed only when its stat (size, mtime, ctime, inode) no longer
matches the stamp taken at the last check.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from packager.errors import UserError

if TYPE_CHECKING:
    from packager.release import Artifact, Release

_CHUNK = 1 << 20


def default_root() -> Path:
    """``$XDG_CACHE_HOME/fate-pkg``, falling back to ``~/.cache/fate-pkg``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fate-pkg"


def sha256_file(path: Path) -> tuple[str, int]:
    """Hex sha256 and size of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class Cache:
    """Verified artifact storage; see the module docstring for the layout."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        if self.root.exists() and not self.root.is_dir():
            raise UserError(f"cache {self.root} exists and is not a directory")

    # -- paths ---------------------------------------------------------------------------
    def blob_path(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256

    def index_path(self, artifact: Artifact) -> Path:
        return self.root / "releases" / artifact.release / artifact.name

    def partial_path(self, artifact: Artifact) -> Path:
        return self.root / "partial" / artifact.release / f"{artifact.name}.part"

    # -- queries -------------------------------------------------------------------------
    def lookup(self, artifact: Artifact) -> Path | None:
        """The blob holding this artifact's bytes, verified; None when absent or damaged.

        A pinned artifact is found by its sha256 alone; an unpinned one through the
        release's name index. Either way the blob's content must hash to its name and,
        when the manifest gives one, have the manifest's size.
        """
        sha = artifact.sha256 or self._indexed_sha(artifact)
        if sha is None:
            return None
        blob = self.blob_path(sha)
        try:
            size = blob.stat().st_size
        except OSError:
            return None
        if artifact.size is not None and size != artifact.size:
            return None
        if not self._verified(blob, sha):
            return None
        return blob

    def missing(self, release: Release) -> list[Artifact]:
        """Artifacts of ``release`` that the build cannot take from the cache yet."""
        return [art for art in release.artifacts if self.lookup(art) is None]

    def recorded_sha256(self, artifact: Artifact) -> str | None:
        """The checksum of the bytes cached for this artifact (pinned or via the index)."""
        return artifact.sha256 or self._indexed_sha(artifact)

    # -- updates -------------------------------------------------------------------------
    def add(self, path: Path | str, artifact: Artifact) -> Path:
        """Copy a local file (e.g. a generated sample artifact) into the cache.

        Refuses a file whose checksum or size differs from what the manifest pins.
        """
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{path}: not a regular file, cannot add {artifact.name} to the cache")
        sha, size = sha256_file(path)
        self._check_pins(artifact, sha, size, str(path))
        blob = self.blob_path(sha)
        if not (blob.exists() and self._verified(blob, sha)):
            tmp = self._tmp_file()
            try:
                shutil.copyfile(path, tmp)
                again, _ = sha256_file(tmp)
                if again != sha:
                    raise UserError(f"{path}: changed while it was being copied into the cache")
                self._install_blob(tmp, sha)
            finally:
                tmp.unlink(missing_ok=True)
        self._link(artifact, sha)
        return blob

    def commit(self, part: Path, artifact: Artifact,
               sha256: str | None = None) -> tuple[Path, str, int]:
        """Move a finished download into the cache after checking it against the manifest.

        ``sha256``: the download's own digest of the bytes it wrote (``download.Result``),
        so a 2 GiB file is not read again; without it the file is hashed here.
        On a mismatch the partial file is deleted (a re-run downloads it afresh) and
        ``ChecksumMismatch`` names the artifact. Returns (blob, sha256, size).
        """
        if sha256:
            sha, size = sha256, part.stat().st_size
        else:
            sha, size = sha256_file(part)
        try:
            self._check_pins(artifact, sha, size, artifact.url)
        except UserError as exc:
            part.unlink(missing_ok=True)
            _sidecar(part).unlink(missing_ok=True)
            raise ChecksumMismatch(str(exc)) from None
        self._install_blob(part, sha)
        _sidecar(part).unlink(missing_ok=True)
        self._link(artifact, sha)
        return self.blob_path(sha), sha, size

    # -- internals -----------------------------------------------------------------------
    def _check_pins(self, artifact: Artifact, sha: str, size: int, source: str) -> None:
        if artifact.size is not None and size != artifact.size:
            raise UserError(
                f"{artifact.name}: {source} has {size} bytes, the manifest pins {artifact.size}"
            )
        if artifact.sha256 is not None and sha != artifact.sha256:
            raise UserError(
                f"{artifact.name}: sha256 mismatch: {source} has {sha}, "
                f"the manifest pins {artifact.sha256}"
            )

    def _indexed_sha(self, artifact: Artifact) -> str | None:
        try:
            target = os.readlink(self.index_path(artifact))
        except OSError:
            return None
        name = os.path.basename(target)
        return name if len(name) == 64 and all(c in "0123456789abcdef" for c in name) else None

    def _tmp_file(self) -> Path:
        tmpdir = self.root / "tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmpdir, prefix="add-")
        os.close(fd)
        return Path(name)

    def _install_blob(self, src: Path, sha: str) -> None:
        blob = self.blob_path(sha)
        blob.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(src, 0o444)
        os.replace(src, blob)
        self._stamp(blob, sha)

    def _link(self, artifact: Artifact, sha: str) -> None:
        link = self.index_path(artifact)
        link.parent.mkdir(parents=True, exist_ok=True)
        target = os.path.join("..", "..", "sha256", sha)
        tmp = link.with_name(f".{link.name}.{_unique()}.tmp")
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, link)

    def _stamp_path(self, sha: str) -> Path:
        return self.root / "verified" / sha

    @staticmethod
    def _stat_key(path: Path) -> str:
        st = path.stat()
        return f"{st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino}"

    def _stamp(self, blob: Path, sha: str) -> None:
        stamp = self._stamp_path(sha)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        tmp = stamp.with_name(f".{sha}.{_unique()}.tmp")
        tmp.write_text(self._stat_key(blob) + "\n", encoding="ascii")
        os.replace(tmp, stamp)

    def _verified(self, blob: Path, sha: str) -> bool:
        stamp = self._stamp_path(sha)
        try:
            if stamp.read_text(encoding="ascii").strip() == self._stat_key(blob):
                return True
        except OSError:
            pass
        actual, _ = sha256_file(blob)
        if actual != sha:
            return False
        self._stamp(blob, sha)
        return True


class ChecksumMismatch(UserError):
    """Downloaded bytes differ from the manifest; the download has been deleted."""


def _unique() -> str:
    """A temp-name suffix unique across processes and threads sharing one cache."""
    return f"{os.getpid()}-{threading.get_ident()}"


def _sidecar(part: Path) -> Path:
    """Where the validator (ETag / Last-Modified) of a partial download is kept."""
    return part.with_name(part.name + ".json")

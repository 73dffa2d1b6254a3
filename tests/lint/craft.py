"""Make deliberately bad RPMs from good ones, for the lint and verify tests.

``rewrite`` re-encodes a package written by the project's writer with its header and
signature changed by the caller, and (unless told otherwise) recomputes the digests
rpm -K checks, so that each bad package breaks exactly the rule under test.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import subprocess
from pathlib import Path
from typing import Callable

from packager.rpm import FileEntry, Package, build_rpm, read_rpm
from packager.rpm import tags as t
from packager.rpm.columns import ARRAYS
from packager.rpm.header import Header
from packager.rpm.reader import LEAD_SIZE
from packager.rpm.tags import T
from support.gpgkeys import make_key

SDE = 1600000000
Entries = dict[int, tuple[T, object]]


def package(tmp: Path, files: list[FileEntry] | None = None, **kw) -> Package:
    """A small package with a file, a directory and a symlink under /opt/fate-lint."""
    src = tmp / "src-data"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text("data\n")
    base = [FileEntry("/opt/fate-lint", "dir"),
            FileEntry("/opt/fate-lint/data.txt", "file", source=src),
            FileEntry("/opt/fate-lint/current", "symlink", link_target="data.txt")]
    fields = {"name": "fate-lint", "version": "1.4.5", "release": "1",
              "summary": "lint test package", "files": base + list(files or [])}
    fields.update(kw)
    return Package(**fields)


def build(tmp: Path, pkg: Package, **kw) -> Path:
    kw.setdefault("sde", SDE)
    return build_rpm(pkg, tmp, **kw).path


def entries(parsed) -> Entries:
    out: Entries = {}
    for tag, value in parsed.values.items():
        typ = parsed.types[tag]
        if typ == T.I18NSTRING and isinstance(value, ARRAYS):
            value = value[0]
        elif isinstance(value, ARRAYS):
            value = list(value)  # the tests edit them in place
        out[tag] = (typ, value)
    return out


def encode(values: Entries, region: int) -> bytes:
    h = Header()
    for tag, (typ, value) in values.items():
        h.add(tag, typ, value)  # type: ignore[arg-type]
    return h.encode(region)


def rewrite(
    src: Path,
    dst: Path,
    *,
    header: Callable[[Entries], None] | None = None,
    signature: Callable[[Entries], None] | None = None,
    payload: bytes | None = None,
    redigest: bool = True,
) -> Path:
    """Copy ``src`` to ``dst`` with the header/signature entries edited in place."""
    rpm = read_rpm(src)
    raw = src.read_bytes()
    hdr = entries(rpm.header)
    if header:
        header(hdr)
    header_bytes = encode(hdr, t.HEADERIMMUTABLE)
    body = payload if payload is not None else raw[rpm.payload_offset:]
    sig = entries(rpm.signature)
    if redigest:
        sig[t.SIG_SHA1] = (T.STRING, hashlib.sha1(header_bytes).hexdigest())
        sig[t.SIG_SHA256] = (T.STRING, hashlib.sha256(header_bytes).hexdigest())
        sig[t.SIG_MD5] = (T.BIN, hashlib.md5(header_bytes + body).digest())
        sig[t.SIG_SIZE] = (T.INT32, [len(header_bytes) + len(body)])
        if t.PAYLOADDIGEST in hdr and payload is not None:
            hdr[t.PAYLOADDIGEST] = (T.STRING_ARRAY, [hashlib.sha256(body).hexdigest()])
            header_bytes = encode(hdr, t.HEADERIMMUTABLE)
            sig[t.SIG_SHA1] = (T.STRING, hashlib.sha1(header_bytes).hexdigest())
            sig[t.SIG_SHA256] = (T.STRING, hashlib.sha256(header_bytes).hexdigest())
            sig[t.SIG_MD5] = (T.BIN, hashlib.md5(header_bytes + body).digest())
            sig[t.SIG_SIZE] = (T.INT32, [len(header_bytes) + len(body)])
    if signature:
        signature(sig)
    sig_bytes = encode(sig, t.HEADERSIGNATURES)
    sig_bytes += b"\0" * (-len(sig_bytes) % 8)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(raw[:LEAD_SIZE] + sig_bytes + header_bytes + body)
    return dst


def cpio_of(rpm_path: Path) -> bytes:
    """The uncompressed cpio archive of a package (decompressed with the stdlib)."""
    data = b"".join(read_rpm(rpm_path).payload())
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else lzma.decompress(data)


gpg_key = make_key  # a new passphrase-less key in ``home``; returns its key id


def gpg_sign(home: Path, key: str, data: bytes, armor: bool = False) -> bytes:
    cmd = ["gpg", "--homedir", str(home), "--batch", "--local-user", key, "--detach-sign",
           "--output", "-"]
    if armor:
        cmd.insert(-2, "--armor")
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout

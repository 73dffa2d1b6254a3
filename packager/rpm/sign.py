"""Sign RPM headers with GnuPG in the form rpm 4.11 and yum 3.4.3 verify.

No cryptography of our own: ``gpg --detach-sign`` makes the signature packets, and this
module only checks that what gpg produced is what EL7 can use (el7-rules rule 6): a V4
packet from an RSA (or DSA) key with a non-critical Issuer Key ID subpacket.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from typing import Iterable

_RSA, _DSA = 1, 17


class SigningError(ValueError):
    pass


@dataclass(frozen=True)
class Signer:
    key_id: str
    gnupg_home: str | None = None
    #: SOURCE_DATE_EPOCH: the signature's creation time, for byte-identical signed packages.
    sde: int | None = None

    def _cmd(self, *args: str) -> list[str]:
        cmd = ["gpg", "--batch", "--no-tty", "--quiet"]
        if self.gnupg_home:
            cmd += ["--homedir", self.gnupg_home]
        return cmd + list(args)

    def _key_created(self) -> int:
        """Creation time of the newest signing-capable (sub)key: gpg will not sign earlier."""
        r = subprocess.run(self._cmd("--with-colons", "--list-secret-keys", self.key_id),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SigningError(f"gpg has no secret key {self.key_id!r}")
        times = [int(f[5]) for f in (line.split(":") for line in r.stdout.splitlines())
                 if f[0] in ("sec", "ssb") and "s" in f[11] and f[5].isdigit()]
        return max(times, default=0)

    def _sign_cmd(self) -> list[str]:
        extra = []
        if self.sde is not None:
            # Reproducible: the signature time is SOURCE_DATE_EPOCH, or the key's creation
            # time when the key is younger (gpg refuses to sign before a key existed).
            extra = ["--faked-system-time", f"{max(self.sde, self._key_created())}!"]
        return self._cmd(*extra, "--digest-algo", "SHA256", "--no-armor", "--detach-sign",
                         "--local-user", self.key_id, "--output", "-")

    def sign_file_armored(self, path: str) -> bytes:
        """An ASCII-armored detached signature of a file (e.g. a bundle's SHA256SUMS)."""
        cmd = [("--armor" if a == "--no-armor" else a) for a in self._sign_cmd()]
        done = subprocess.run([*cmd, path], capture_output=True)
        if done.returncode != 0 or not done.stdout.startswith(b"-----BEGIN PGP SIGNATURE"):
            msg = done.stderr.decode(errors="replace").strip().splitlines()
            raise SigningError(f"gpg could not sign {path} with key {self.key_id}: "
                               f"{msg[-1] if msg else 'no signature'}")
        return done.stdout

    def fingerprint(self) -> str:
        done = subprocess.run(self._cmd("--with-colons", "--fingerprint", self.key_id),
                              capture_output=True, text=True)
        for line in done.stdout.splitlines():
            if line.startswith("fpr:"):
                return line.split(":")[9]
        raise SigningError(f"gpg shows no fingerprint for key {self.key_id}")

    def sign_bytes(self, data: bytes) -> bytes:
        return self.sign_stream([data])

    def sign_stream(self, chunks: Iterable[bytes]) -> bytes:
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(self._sign_cmd(), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=err)
            assert proc.stdin and proc.stdout
            # gpg reads all input before writing the signature, so writing first is safe.
            try:
                for chunk in chunks:
                    proc.stdin.write(chunk)
                proc.stdin.close()
            except BrokenPipeError:
                pass
            sig = proc.stdout.read()
            rc = proc.wait()
            if rc != 0:
                err.seek(0)
                msg = err.read().decode(errors="replace").strip().splitlines()
                raise SigningError(
                    f"gpg could not sign with key {self.key_id!r}: "
                    f"{msg[-1] if msg else f'exit {rc}'}"
                )
        check_signature_packet(sig, self.key_id)
        return sig

    def export_public_key(self) -> bytes:
        r = subprocess.run(self._cmd("--armor", "--export", self.key_id), capture_output=True)
        if r.returncode != 0 or not r.stdout:
            raise SigningError(f"gpg has no public key {self.key_id!r} to export")
        return r.stdout


def check_signature_packet(sig: bytes, key_id: str = "") -> None:
    """Refuse signatures rpm 4.11 cannot verify (V5/V6, EdDSA/ECDSA, critical issuer)."""
    if not sig or not sig[0] & 0x80:
        raise SigningError("gpg did not return an OpenPGP packet")
    first = sig[0]
    if first & 0x40:  # new format
        tag = first & 0x3F
        body, _ = _new_len(sig, 1)
    else:
        tag = (first >> 2) & 0x0F
        ltype = first & 3
        n = {0: 1, 1: 2, 2: 4}.get(ltype)
        if n is None:
            raise SigningError("indeterminate-length signature packet")
        body = 1 + n
    if tag != 2:
        raise SigningError(f"expected a signature packet, got packet tag {tag}")
    version = sig[body]
    if version != 4:
        raise SigningError(f"V{version} signature: rpm 4.11 verifies only V3/V4 packets")
    algo = sig[body + 2]
    if algo not in (_RSA, _DSA):
        raise SigningError(
            f"key {key_id} uses public-key algorithm {algo}: rpm 4.11 verifies RSA or DSA only"
        )
    pos = body + 4
    issuers = []
    for _ in range(2):  # hashed, then unhashed subpackets
        length = int.from_bytes(sig[pos : pos + 2], "big")
        area = sig[pos + 2 : pos + 2 + length]
        issuers += [(t, crit) for t, crit in _subpackets(area) if t == 16]
        pos += 2 + length
    if not issuers:
        raise SigningError("signature has no Issuer Key ID subpacket; rpm 4.11 needs one")
    if any(crit for _, crit in issuers):
        raise SigningError("signature's Issuer subpacket is critical; rpm 4.11 rejects it")


def _new_len(buf: bytes, pos: int) -> tuple[int, int]:
    o = buf[pos]
    if o < 192:
        return pos + 1, o
    if o < 224:
        return pos + 2, ((o - 192) << 8) + buf[pos + 1] + 192
    if o == 255:
        return pos + 5, int.from_bytes(buf[pos + 1 : pos + 5], "big")
    raise SigningError("partial-length signature packet")


def _subpackets(area: bytes):
    pos = 0
    while pos < len(area):
        start, length = _new_len(area, pos)
        typ = area[start]
        yield typ & 0x7F, bool(typ & 0x80)
        pos = start + length

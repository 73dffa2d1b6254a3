"""Verify detached OpenPGP signatures with one public key in a throw-away keyring.

``verify`` must trust only the key the bundle carries (``RPM-GPG-KEY-fate``), never the
user's own keyring, so each run imports it into a temporary GNUPGHOME that is removed
afterwards. Success is read from gpg's machine-readable status lines (``VALIDSIG``), not
from its exit code alone.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

from packager.errors import UserError


class Keyring:
    """A temporary keyring holding one exported public key; use as a context manager."""

    def __init__(self, key_file: Path) -> None:
        if not shutil.which("gpg"):
            raise UserError("gpg is needed to verify signatures: apt-get install gnupg")
        self._tmp = tempfile.TemporaryDirectory(prefix="fate-pkg-gpg-")
        self.home = self._tmp.name
        r = subprocess.run(self._cmd("--import", str(key_file)), capture_output=True, text=True)
        self.imported = r.returncode == 0 and "IMPORT_OK" in r.stdout
        self.error = "" if self.imported else (r.stderr.strip().splitlines() or ["?"])[-1]

    def _cmd(self, *args: str) -> list[str]:
        return ["gpg", "--homedir", self.home, "--batch", "--no-tty", "--status-fd", "1",
                "--trust-model", "always", *args]

    def verify(self, signature: bytes, data: Iterable[bytes]) -> str | None:
        """None when ``signature`` is a good signature over ``data`` by the key, else why not."""
        with tempfile.NamedTemporaryFile(dir=self.home, suffix=".sig") as sig:
            sig.write(signature)
            sig.flush()
            proc = subprocess.Popen(self._cmd("--verify", sig.name, "-"), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert proc.stdin and proc.stdout and proc.stderr
            try:
                for chunk in data:
                    proc.stdin.write(chunk)
            except BrokenPipeError:
                pass
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
            # gpg reads all data before it reports; its few status lines fit a pipe buffer.
            out, err = proc.stdout.read(), proc.stderr.read()
            proc.wait()
        status = out.decode(errors="replace")
        if proc.returncode == 0 and "\n[GNUPG:] VALIDSIG " in "\n" + status:
            return None
        for word, why in (("BADSIG", "bad signature (data or signature changed)"),
                          ("NO_PUBKEY", "made by a key other than the bundle's key"),
                          ("ERRSIG", "signature cannot be checked"),
                          ("NODATA", "not an OpenPGP signature")):
            if f"[GNUPG:] {word}" in status:
                return why
        return (err.decode(errors="replace").strip().splitlines() or ["gpg failed"])[-1]

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> Keyring:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

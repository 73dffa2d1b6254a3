"""Builds small, real, reproducible wheels (PEP 427) for the sample pip bundle.

``pip install --no-index --find-links DIR -r requirements.txt`` installs them offline
like FATE's real wheelhouse; RECORD carries real sha256 digests so pip accepts them.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Iterable, Mapping

from packager.sample.archive import Tree, file, zip_bytes


def _digest(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def wheel(name: str, version: str, files: Tree, *, summary: str,
          requires: Iterable[str] = (), console_scripts: Mapping[str, str] | None = None,
          tag: str = "py3-none-any", level: int | None = None) -> tuple[str, bytes]:
    """(file name, bytes) of a pure-Python wheel holding ``files`` (paths inside site-packages)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                f"Summary: {summary}", "License: Apache-2.0"]
    metadata += [f"Requires-Dist: {req}" for req in requires]
    members: Tree = dict(files)
    members[f"{info}/METADATA"] = file("\n".join(metadata) + "\n")
    members[f"{info}/WHEEL"] = file(
        "Wheel-Version: 1.0\nGenerator: fate-pkg-sample\nRoot-Is-Purelib: true\n"
        + "".join(f"Tag: {t}\n" for t in _expand(tag)))
    members[f"{info}/top_level.txt"] = file(
        "".join(sorted({p.split("/")[0] + "\n" for p in files})))
    if console_scripts:
        lines = "".join(f"{k} = {v}\n" for k, v in sorted(console_scripts.items()))
        members[f"{info}/entry_points.txt"] = file("[console_scripts]\n" + lines)
    record = [f"{path},{_digest(entry.data)},{len(entry.data)}"
              for path, entry in sorted(members.items())]
    record.append(f"{info}/RECORD,,")
    members[f"{info}/RECORD"] = file("\n".join(record) + "\n")
    return f"{dist}-{version}-{tag}.whl", zip_bytes(members, level)


def _expand(tag: str) -> list[str]:
    pythons, abi, platform = tag.split("-")
    return [f"{py}-{abi}-{platform}" for py in pythons.split(".")]

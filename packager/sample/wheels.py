"""Builds small, real, reproducible wheels (PEP 427) for the sample pip bundle.

``pip install --no-index --find-links DIR -r requirements.txt`` installs them offline
like FATE's real wheelhouse; RECORD carries real sha256 digests so pip accepts them.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Dict, Iterable, Mapping, Tuple

from packager.sample.archive import Tree, file, write_zip, zip_bytes


def _digest(data: bytes) -> str:
    return _record_digest(hashlib.sha256(data).digest())


def _record_digest(raw: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def wheel(name: str, version: str, files: Tree, *, summary: str,
          requires: Iterable[str] = (), console_scripts: Mapping[str, str] | None = None,
          tag: str = "py3-none-any", level: int | None = None) -> tuple[str, bytes]:
    """(file name, bytes) of a pure-Python wheel holding ``files`` (paths inside site-packages)."""
    fname, info, members = _members(name, version, files, summary, requires, console_scripts,
                                    tag)
    record = [f"{path},{_digest(data)},{len(data)}"
              for path, data in sorted((p, e.content()) for p, e in members.items())]
    record.append(f"{info}/RECORD,,")
    members[f"{info}/RECORD"] = file("\n".join(record) + "\n")
    return fname, zip_bytes(members, level)


def wheel_file(out_dir: Path, name: str, version: str, files: Tree, *, summary: str,
               level: int | None = None) -> tuple[str, Path]:
    """``wheel`` streamed into ``out_dir`` for trees too big for memory (members made as
    they are written, so RECORD, which needs their digests, is the last member)."""
    fname, info, members = _members(name, version, files, summary, (), None, "py3-none-any")

    def record(seen: Dict[str, Tuple[bytes, int]]) -> Tree:
        lines = [f"{path},{_record_digest(sha)},{size}" for path, (sha, size) in
                 sorted(seen.items())]
        lines.append(f"{info}/RECORD,,")
        return {f"{info}/RECORD": file("\n".join(lines) + "\n")}

    dest = out_dir / fname
    with open(dest, "wb") as out:
        write_zip(members, out, level, trailer=record)
    return fname, dest


def _members(name: str, version: str, files: Tree, summary: str, requires: Iterable[str],
             console_scripts: Mapping[str, str] | None, tag: str) -> tuple[str, str, Tree]:
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
    return f"{dist}-{version}-{tag}.whl", info, members


def _expand(tag: str) -> list[str]:
    pythons, abi, platform = tag.split("-")
    return [f"{py}-{abi}-{platform}" for py in pythons.split(".")]

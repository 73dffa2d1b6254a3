"""``fetch --record``: pin sizes and checksums into a release manifest, in place.

Manifests are hand-written and commented (where an artifact comes from, why a version),
so re-dumping the YAML would destroy what reviewers rely on. Instead the loader keeps the
character span of every ``size`` / ``sha256`` value and this module replaces exactly those
characters, or adds the missing line under the artifact with the same indentation. The
result is parsed again and compared before it replaces the file atomically.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packager.errors import UserError
from packager.release import Release, parse_release


@dataclass(frozen=True)
class Pin:
    name: str
    size: int
    sha256: str


def apply_pins(text: str, release: Release, pins: list[Pin]) -> str:
    """Return ``text`` with each pinned artifact's size and sha256 set."""
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement)
    for pin in pins:
        art = release.artifact(pin.name)
        values = {"size": str(pin.size), "sha256": pin.sha256}
        missing = []
        for key, new in values.items():
            span = art.spans.get(key)
            if span is None:
                missing.append(f"{key}: {new}")
            elif span.start == span.end:  # "sha256:" with nothing after it
                edits.append((span.start, span.end, " " + new))
            else:
                edits.append((span.start, span.end, new))
        if missing:
            if "_flow" in art.spans:
                raise UserError(
                    f"{release.path}:{art.line}: artifact {art.name} is written as a flow "
                    f"mapping without {' and '.join(k.split(':')[0] for k in missing)}; "
                    "add the key (null) by hand, then --record can fill it"
                )
            key_start = art.spans["_key"].start
            column = key_start - (text.rfind("\n", 0, key_start) + 1)
            end = text.find("\n", art.spans["_last"].end)
            end = len(text) if end < 0 else end
            block = "".join("\n" + " " * column + line for line in missing)
            edits.append((end, end, block))
    out = text
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:start] + new + out[end:]
    return out


def record(release: Release, pins: list[Pin]) -> bool:
    """Write the pins into the manifest file; False when nothing had to change."""
    pins = [p for p in pins
            if (release.artifact(p.name).sha256, release.artifact(p.name).size)
            != (p.sha256, p.size)]
    if not pins:
        return False
    path = release.path
    text = path.read_text(encoding="utf-8")
    new_text = apply_pins(text, release, pins)
    check = parse_release(new_text, path)
    for pin in pins:
        got = check.artifact(pin.name)
        if (got.size, got.sha256) != (pin.size, pin.sha256):
            raise UserError(f"{path}: could not record {pin.name} without changing the layout; "
                            "set its size and sha256 by hand")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new_text)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True

"""The miniature FATE 1.4.5 release ("the sample"): real names, tree and command lines.

The real release is several GB and out of reach of CI, so fate-pkg proves its packager
and configurator against this one: the same four downloads with the same nesting, file
names, config files and keys, whose programs are small stand-ins (Python, plus the
host's MariaDB for mysqld) that check what the real services depend on and fail loudly.
``generate()`` writes it byte for byte identically on every run; the checksums are
recorded in specs/releases/sample-1.4.5.yaml. See README.md here.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from packager import resources
from packager.sample import full, release

__all__ = ["generate", "ARTIFACTS", "MANIFEST", "PROFILES"]

ARTIFACTS = release.ARTIFACTS
MANIFEST = resources.specs() / "releases" / "sample-1.4.5.yaml"


PROFILES = ("sample", "fate-1.4.5-full")


def generate(out_dir: Path, *, extra_bytes: int = 0, profile: str = "sample",
             scale: float = 1.0) -> list[Path]:
    """Write the sample artifacts into ``out_dir``; return their paths in manifest order.

    ``extra_bytes`` > 0 adds that much deterministic filler (about 15 files per MiB of
    text, ELF-like and random-looking data) into the component trees, for benchmarks;
    with 0 the files match sample-1.4.5.yaml exactly. ``profile="fate-1.4.5-full"`` adds
    the real release's bulk (packager/sample/full.py) at ``scale`` times its size.
    """
    if extra_bytes < 0:
        raise ValueError(f"extra_bytes must be >= 0, not {extra_bytes}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if profile not in PROFILES:
        raise ValueError(f"profile {profile!r}: one of {', '.join(PROFILES)}")
    # Inner archives and bulk wheels are written here first (their outer archive then
    # copies them in): nothing of the release is held in memory whole, whatever its size.
    spool = Path(tempfile.mkdtemp(prefix=".sample-spool-", dir=out_dir))
    try:
        fill = release.filler_trees(extra_bytes)
        if profile == "fate-1.4.5-full":
            for key, bulk in full.bulk(scale, spool).items():
                fill.setdefault(key, {}).update(bulk)
        written = []
        for name in release.ARTIFACTS:
            target = out_dir / name
            partial = target.with_name(target.name + ".part")
            release.BUILDERS[name](fill, partial, spool)
            partial.replace(target)
            written.append(target)
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    return written

"""A scaled-up sample release for benchmarks: filler added, checksums pinned, cached.

The sample's own manifest pins the bytes of the plain sample, so a scaled one needs a
manifest of its own (same artifact names, the new sizes and sha256); the build then treats
it like any downloaded release.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from packager.errors import UserError
from packager.fetch.cache import Cache, sha256_file
from packager.release import load_release, releases_for
from packager.sample import ARTIFACTS, MANIFEST, generate


def scaled_release(work: Path, extra: int, profile: str = "sample",
                   scale: float = 1.0, generated: Path | None = None
                   ) -> tuple[Path, Cache, int]:
    """Manifest, seeded cache and artifact bytes of the sample plus ``extra`` filler bytes
    (``profile="fate-1.4.5-full"``: the real release's shape at ``scale``).

    ``generated``: a directory the generator already wrote them into (a benchmark runs it
    as a process of its own, to measure it). The cache also gets the vendored wheels from
    the user's cache (scripts/setup.sh).
    """
    arts = generated or work / "artifacts"
    paths = [arts / name for name in ARTIFACTS] if generated else \
        generate(arts, extra_bytes=extra, profile=profile, scale=scale)
    sample = yaml.safe_load(MANIFEST.read_text())
    sample.pop("generated_by")
    sample["release"] = f"sample-plus-{extra >> 20}mib" if profile == "sample" else \
        f"{profile}-x{scale:g}"
    for art in sample["artifacts"]:
        art["sha256"], art["size"] = sha256_file(arts / art["name"])
    work.mkdir(parents=True, exist_ok=True)
    manifest = work / f"{sample['release']}.yaml"
    manifest.write_text(yaml.safe_dump(sample, sort_keys=False))
    cache = Cache(work / "cache")
    rel = load_release(manifest)
    for p in paths:
        cache.add(p, rel.artifact(p.name))
    user = Cache()
    for inc in releases_for("vendor-py36"):
        for a in inc.artifacts:
            blob = user.lookup(a)
            if blob is None:
                raise UserError(f"{a.name} missing from {user.root}: run scripts/setup.sh")
            cache.add(blob, a)
    return manifest, cache, sum(p.stat().st_size for p in paths)

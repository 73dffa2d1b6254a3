"""The bundle step after ``run_build``: which RPMs of dist/ go in, and with what identity.

It lives here rather than in the RPM pipeline so that the RPM build knows nothing about
bundles; ``fate-pkg build`` calls it after the RPMs unless ``--no-bundle``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Callable

from packager import resources
from packager.assemble.pipeline import STATE_FILE, BuildOptions, BuildReport
from packager.bundle.profile import Profile, load_profile
from packager.bundle.writer import BundleInput, BundleResult, os_closure_rpms, write_bundle
from packager.filestate import recorded_digest


def dist_rpms(out_dir: Path) -> dict[str, BundleInput]:
    """Every RPM the build state records in dist/ (also those an ``--only`` build kept),
    with the sha256 the build recorded when the file is still the one it hashed."""
    try:
        state = json.loads((out_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    out = {}
    for name, entry in state.items():
        path = out_dir / entry["file"]
        if path.is_file():
            out[name] = BundleInput(path, entry["fingerprint"],
                                    sha256=recorded_digest(path, entry) or "")
    return out


def with_parts(profile: Profile, out_dir: Path) -> Profile:
    """The profile with the parts the header budget split off its packages, each after its
    parent (``fate-python`` -> ``fate-python``, ``fate-python-site-packages-a``, ...), so
    packages.txt, install.sh, the README and the repodata name every RPM that is shipped."""
    try:
        state = json.loads((out_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return profile
    names: list[str] = []
    for name in profile.packages:
        names += [name, *(state.get(name) or {}).get("parts", [])]
    return replace(profile, packages=tuple(names))


def bundle_after_build(report: BuildReport, opts: BuildOptions, profile_name: str | None,
                       note: Callable[[str, str], None] | None = None,
                       bundles_dir: Path | None = None) -> BundleResult:
    known = {p.stem for p in (resources.specs() / "packages").glob("*.yaml")}
    profile = load_profile(profile_name, bundles_dir, known)
    rpms = dist_rpms(opts.out_dir)
    profile = with_parts(profile, opts.out_dir)
    sde = opts.sde if opts.sde is not None else report.release.source_date_epoch
    if sde is None:  # no date anywhere: the newest RPM's, still a function of the inputs
        sde = max((int(rpms[n].path.stat().st_mtime) for n in profile.packages if n in rpms),
                  default=0)
    return write_bundle(opts.out_dir, report.release.version, profile, rpms,
                        os_closure_rpms(opts.cache), sde, opts.signer, note)

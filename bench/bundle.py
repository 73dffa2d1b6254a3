#!/usr/bin/env python3
"""Benchmark: the air-gapped bundle for gzip vs xz RPM payloads, on the sample release and
on the sample with filler (text, ELF-like and random-looking files, as real trees are).

For each payload compression, in one run on this machine: the RPM build (8 packages), the
bundle step alone (repodata, SHA256SUMS, the uncompressed tar), the bundle's size, and
the no-op rebuild; then the xz/gzip ratios, and what compressing the last bundle's tar
again (gzip -1, xz -0) would save and cost against a plain copy.

    .venv/bin/python bench/bundle.py --extra-mib 0 200
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import gnu_time  # noqa: E402
from packager.assemble.pipeline import BuildOptions, run_build  # noqa: E402
from packager.bundle.from_build import bundle_after_build  # noqa: E402
from packager.fetch.cache import Cache  # noqa: E402
from packager.rpm.spec import parse_compression  # noqa: E402
from packager.sample.scaled import scaled_release  # noqa: E402

SDE = 1601164800


def measure(manifest: Path, cache: Cache, comp: str, dist: Path) -> dict:
    opts = BuildOptions(release=str(manifest), cache=cache, out_dir=dist,
                        compression=parse_compression(comp), sde=SDE,
                        allow_abi=("*libsamplefiller*",))  # filler: ELF-like, not ELF
    t0 = time.monotonic()
    report = run_build(opts)
    rpm_s = time.monotonic() - t0
    t0 = time.monotonic()
    result = bundle_after_build(report, opts, None)
    bundle_s = time.monotonic() - t0
    t0 = time.monotonic()
    again = bundle_after_build(run_build(opts), opts, None)
    noop_s = time.monotonic() - t0
    assert again.status == "up to date"
    return {"comp": comp, "rpm_s": rpm_s, "bundle_s": bundle_s, "noop_s": noop_s,
            "size": result.path.stat().st_size, "path": result.path,
            "rpms": sum(p.stat().st_size for p in dist.glob("*.rpm"))}


def storage(bundle: Path, work: Path) -> None:
    """The bundle's own plain tar against gzip -1 and xz -0 of the same tar, and cp."""
    work.mkdir()
    size = bundle.stat().st_size
    rows = [("cp (plain copy)", f"cp --reflink=never {bundle} {work}/copy"),
            ("gzip -1", f"gzip -1 -c {bundle} > {work}/b.gz"),
            ("pigz -p2 -1", f"pigz -p2 -1 -c {bundle} > {work}/b.pgz"),
            ("xz -T2 -0", f"xz -T2 -0 -c {bundle} > {work}/b.xz")]
    print(f"storing the {size / 2**20:.1f} MiB bundle tar (already-compressed RPMs):")
    for name, cmd in rows:
        t = gnu_time(["bash", "-c", cmd])
        out = max(work.iterdir(), key=lambda q: q.stat().st_mtime)
        print(f"  {name:16} {t.seconds:7.2f}s  {out.stat().st_size / size:.4f}x the size")
        out.unlink()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extra-mib", type=int, nargs="+", default=[0, 200])
    ap.add_argument("--compressions", nargs="+", default=["gzip:6", "xz:6"])
    args = ap.parse_args()
    for extra_mib in args.extra_mib:
        work = Path(tempfile.mkdtemp(prefix="fate-bench-bundle-"))
        try:
            manifest, cache, size = scaled_release(work, extra_mib << 20)
            rows = [measure(manifest, cache, c, work / f"dist-{c.replace(':', '')}")
                    for c in args.compressions]
            print(f"\nsample + {extra_mib} MiB filler: {size / 2**20:.1f} MiB of artifacts")
            print(f"{'payload':8} {'RPM build s':>11} {'bundle s':>9} {'no-op s':>8} "
                  f"{'RPMs MiB':>9} {'bundle MiB':>11}")
            for r in rows:
                print(f"{r['comp']:8} {r['rpm_s']:11.1f} {r['bundle_s']:9.2f} "
                      f"{r['noop_s']:8.2f} {r['rpms'] / 2**20:9.2f} {r['size'] / 2**20:11.2f}")
            if len(rows) == 2:
                a, b = rows
                print(f"{b['comp']} / {a['comp']}: bundle size {b['size'] / a['size']:.2f}x, "
                      f"RPM build time {b['rpm_s'] / a['rpm_s']:.2f}x, bundle step "
                      f"{b['bundle_s'] / a['bundle_s']:.2f}x")
            storage(rows[-1]["path"], work / "storage")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark: the air-gapped bundle for gzip vs xz RPM payloads, on the sample release and
on the sample with filler (text, ELF-like and random-looking files, as real trees are).

For each payload compression, in one run on this machine: the RPM build (8 packages), the
bundle step alone (repodata, SHA256SUMS, the uncompressed tar), the bundle's size, and
the no-op rebuild; then the xz/gzip ratios, and what compressing the last bundle's tar
again (gzip -1, xz -0) would save and cost against a plain copy.

    .venv/bin/python bench/bundle.py --extra-mib 0 200

With ``--dist DIR --release YAML --cache DIR`` (a finished ``fate-pkg build``, e.g. of
``python -m packager.sample OUT --profile fate-1.4.5-full --scale 0.65``), it measures the
bundle step alone against ``cp --reflink=never`` of the same RPMs instead, --repeat rounds
in alternating order:
  - the bundle step as the build runs it (the RPMs' sha256 from the build state);
  - the same with the digests left out of the state (the bundle hashes every RPM);
  - with ``--compare-code TREE``, the bundle step of another checkout (e.g. main's).
Each run is a fresh process into an empty target; its in-process step time is reported
(what ``fate-pkg build`` reports as the bundle's seconds), cp's from outside. Page cache:
every RPM is read once before the first run, so all runs read them from memory, and
``sync`` runs before each, so none starts with another's dirty pages to write back.

    .venv/bin/python bench/bundle.py --dist W/dist --release W/rel.yaml --cache W/cache
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import ROOT, gnu_time, spread  # noqa: E402
from packager.assemble.pipeline import STATE_FILE as BUILD_STATE  # noqa: E402
from packager.assemble.pipeline import BuildOptions, run_build  # noqa: E402
from packager.bundle.from_build import bundle_after_build  # noqa: E402
from packager.bundle.writer import STATE_FILE  # noqa: E402
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


#: The bundle step in a fresh process, with the code of the tree given as argv[1]; only
#: API that main has too, so that --compare-code can run main's.
_STEP = """
import json, sys, time, types
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from packager.assemble.pipeline import BuildOptions
from packager.bundle.from_build import bundle_after_build
from packager.fetch.cache import Cache
from packager.release import load_release
dist = Path(sys.argv[4])
opts = BuildOptions(release=sys.argv[2], cache=Cache(sys.argv[3]), out_dir=dist)
report = types.SimpleNamespace(release=load_release(Path(sys.argv[2])))
t0 = time.monotonic()
result = bundle_after_build(report, opts, None)
assert result.status == "built", result.status
print(json.dumps({"seconds": result.seconds, "wall": time.monotonic() - t0,
                  "size": result.path.stat().st_size}))
"""


def _bundle_once(tree: Path, release: Path, cache: Path, dist: Path) -> dict:
    for old in [*dist.glob("fate-bundle-*.tar"), dist / STATE_FILE]:
        old.unlink(missing_ok=True)
    os.sync()
    done = subprocess.run([sys.executable, "-c", _STEP, str(tree), str(release), str(cache),
                           str(dist)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the bundle step ({tree}) failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _linked(dist: Path, dest: Path, keep_digests: bool) -> Path:
    """``dist`` again with its RPMs hard-linked (the same files), the build state copied,
    without the sha256 records unless ``keep_digests``."""
    dest.mkdir()
    for p in dist.glob("*.rpm"):
        os.link(p, dest / p.name)
    state = json.loads((dist / BUILD_STATE).read_text())
    if not keep_digests:
        for entry in state.values():
            entry.pop("sha256", None)
            entry.pop("identity", None)
    (dest / BUILD_STATE).write_text(json.dumps(state))
    return dest


def vs_copy(dist: Path, release: Path, cache: Path, repeat: int, compare: Path | None,
            work: Path) -> dict:
    rpms = sorted(dist.glob("*.rpm"))
    size = sum(p.stat().st_size for p in rpms)
    for p in rpms:  # every run reads them from the page cache
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass
    variants = {"bundle": (ROOT, _linked(dist, work / "with-digests", True)),
                "bundle_hashing": (ROOT, _linked(dist, work / "no-digests", False))}
    if compare is not None:
        variants["bundle_compare"] = (compare, _linked(dist, work / "compare", True))
    runs: dict[str, list[float]] = {"copy": [], **{k: [] for k in variants}}
    load_before = os.getloadavg()

    def copy_once() -> float:
        dest = work / "copy"
        dest.mkdir()
        os.sync()
        t0 = time.monotonic()
        subprocess.run(["cp", "--reflink=never", *map(str, rpms), str(dest)], check=True)
        t = time.monotonic() - t0
        shutil.rmtree(dest)
        return t

    steps = [("copy", copy_once)] + [
        (k, lambda tree=tree, d=d: _bundle_once(tree, release, cache, d)["seconds"])
        for k, (tree, d) in variants.items()]
    for i in range(max(1, repeat)):
        for name, once in steps if i % 2 == 0 else reversed(steps):
            runs[name].append(once())
            print(f"  round {i + 1} {name:15} {runs[name][-1]:6.2f}s", file=sys.stderr)
    out = {"rpms": len(rpms), "rpm_bytes": size, "load_before": load_before,
           "load_after": os.getloadavg(), **{k: spread(v) for k, v in runs.items()}}
    out["ratios"] = {f"{k}/copy": round(out[k]["median"] / out["copy"]["median"], 3)
                     for k in variants}
    # each run against the copy of its own round (next to it in time, same load)
    out["paired_ratios"] = {f"{k}/copy": spread([a / b for a, b in zip(runs[k], runs["copy"])])
                            for k in variants}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extra-mib", type=int, nargs="+", default=[0, 200])
    ap.add_argument("--compressions", nargs="+", default=["gzip:6", "xz:6"])
    ap.add_argument("--dist", type=Path, help="a finished build's output directory")
    ap.add_argument("--release", type=Path, help="its release manifest (with --dist)")
    ap.add_argument("--cache", type=Path, help="its cache (with --dist)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--compare-code", type=Path, help="another checkout's bundle step too")
    args = ap.parse_args()
    if args.dist:
        work = Path(tempfile.mkdtemp(prefix="fate-bench-bundle-", dir=args.dist.parent))
        try:
            out = vs_copy(args.dist, args.release, args.cache, args.repeat,
                          args.compare_code, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"{out['rpms']} RPMs, {out['rpm_bytes'] / 2**30:.2f} GiB; "
              f"{len(out['copy']['runs'])} runs each, alternating order")
        for k in ("copy", "bundle", "bundle_hashing", "bundle_compare"):
            if k in out:
                r = out[k]
                paired = out["paired_ratios"].get(f"{k}/copy")
                print(f"  {k:15} median {r['median']:6.2f}s  min {r['min']:6.2f}s  "
                      f"max {r['max']:6.2f}s  {out['ratios'].get(f'{k}/copy', 1):.2f}x copy"
                      + (f" (per round: median {paired['median']:.2f}x, "
                         f"{paired['min']:.2f}-{paired['max']:.2f}x)" if paired else ""))
        print("  load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *out["load_before"], *out["load_after"]))
        print(json.dumps(out))
        return 0
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

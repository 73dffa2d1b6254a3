#!/usr/bin/env python3
"""Benchmark: a full `fate-pkg build` of a scaled-up sample release, beside rpmbuild.

The sample generator adds N MiB of mixed filler (text, ELF-like, random; ~15 files per
MiB) to the release's trees. We measure, in one run on this machine:
  - fate-pkg's full offline build (extract, Python env, ABI check, 8 RPMs): wall, peak RSS;
  - the no-op rebuild (nothing changed);
  - rpmbuild packaging the very same trees (taken back out of our RPMs) at the same
    compression, one rpmbuild per package, as the peer for the packaging part.

    .venv/bin/python bench/build.py --extra-mib 2048 --compression gzip:6
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

from packager.rpm.spec import parse_compression  # noqa: E402
from packager.sample.scaled import scaled_release  # noqa: E402


def timed(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB, by GNU time, from outside) and stdout of a command."""
    with tempfile.NamedTemporaryFile("r") as out:
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", out.name, *cmd],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed: {r.stderr[-2000:]}")
        secs, rss = out.read().split()[-2:]
    return float(secs), int(rss), r.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extra-mib", type=int, default=512)
    ap.add_argument("--compression", default="gzip:6")
    args = ap.parse_args()
    comp = parse_compression(args.compression)
    work = Path(tempfile.mkdtemp(prefix="fate-bench-build-"))
    try:
        t0 = time.monotonic()
        manifest, cache, size = scaled_release(work, args.extra_mib << 20)
        gen_s = time.monotonic() - t0
        dist = work / "dist"
        build = [sys.executable, "-m", "packager.cli", "build", "--offline", "--release",
                 str(manifest), "--cache", str(cache.root), "-o", str(dist), "--compression",
                 args.compression, "--json",
                 # the filler's ELF-like files are not real ELF: accepted knowingly
                 "--allow-abi", "*libsamplefiller*"]
        full_s, full_rss, out = timed(build)
        pack_s = sum(p["seconds"] for p in json.loads(out)["packages"])
        noop_s, noop_rss, _ = timed(build)
        payload = 0
        rb_total = 0.0
        rb_rss = 0
        for rpm in sorted(dist.glob("*.rpm")):
            root = work / "rb-root" / rpm.stem
            root.mkdir(parents=True)
            subprocess.run(f"rpm2cpio {rpm} | cpio -idm --quiet", shell=True, cwd=root,
                           check=True)
            listing = subprocess.run(
                ["rpm", "-qp", "--qf", "[%{FILENAMES}\t%{FILEMODES}\t%{FILEFLAGS}\t%{FILESIZES}\n]",
                 str(rpm)], capture_output=True, text=True, check=True).stdout.splitlines()
            files = []
            for line in listing:
                name, mode, flags, fsize = line.rsplit("\t", 3)
                mode, flags = int(mode) & 0xFFFF, int(flags)
                kind = "%dir " if (mode & 0o170000) == 0o040000 else ""
                if flags & 64:
                    kind = "%ghost "  # not in the payload
                elif (mode & 0o170000) == 0o100000:
                    payload += int(fsize)
                files.append(kind + f'"{name}"')
            spec = work / f"{rpm.stem}.spec"
            spec.write_text("Name: rb\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\n"
                            "AutoReqProv: no\n%description\ns\n%files\n" + "\n".join(files)
                            + "\n")
            level = comp.resolved_level()
            pl = f"w{level}.gzdio" if comp.kind == "gzip" else f"w{level}T0.xzdio"
            cmd = ["rpmbuild", "-bb", str(spec), "--buildroot", str(root),
                   "--define", f"_topdir {work / 'rb'}", "--define", f"_binary_payload {pl}",
                   "--define", "__os_install_post %{nil}",
                   "--define", "__spec_install_post %{nil}",
                   "--define", "debug_package %{nil}", "--define", "_build_id_links none",
                   "--define", "_binary_filedigest_algorithm 8", "--noclean",
                   "--define", "_unpackaged_files_terminate_build 0"]
            secs, rss, _ = timed(cmd)
            rb_total += secs
            rb_rss = max(rb_rss, rss)
            shutil.rmtree(root)
        nfiles = sum(len(subprocess.run(["rpm", "-qpl", str(p)], capture_output=True,
                                        text=True).stdout.splitlines())
                     for p in dist.glob("*.rpm"))
        print(f"\nscaled sample: {size / 2**20:.0f} MiB of artifacts "
              f"(generated in {gen_s:.0f}s), {payload / 2**20:.0f} MiB in {nfiles} packaged "
              f"files, {comp.kind}:{comp.resolved_level()}, {os.cpu_count()} cores\n")
        print(f"{'step':42} {'wall s':>8} {'MB/s':>8} {'peak RSS MiB':>13}")
        rows = [("fate-pkg build (full, offline)", full_s, full_rss),
                ("  RPM writing (sum over the 8 RPMs)", pack_s, None),
                ("rpmbuild, same trees, same compression", rb_total, rb_rss),
                ("fate-pkg build (no-op rebuild)", noop_s, noop_rss)]
        for name, secs, rss in rows:
            mbs = payload / secs / 1e6 if secs and "no-op" not in name else 0
            print(f"{name:42} {secs:8.2f} {mbs:8.1f} "
                  f"{(rss / 1024 if rss else 0):13.1f}")
        print(f"\nRPM writing vs rpmbuild: {pack_s / rb_total:.2f}x the time "
              "(< 1: fate-pkg faster)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

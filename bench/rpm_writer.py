#!/usr/bin/env python3
"""Benchmark: fate-pkg's RPM writer vs rpmbuild vs the raw compressor, on the same tree.

Prints wall time, throughput and peak RSS of each, and the ratios. All three run in this
one process's session on the same bytes, so machine load affects them alike; numbers from
different runs are not comparable, the ratios are the result.

    .venv/bin/python bench/rpm_writer.py --size-mib 1024 --compression gzip:6
    .venv/bin/python bench/rpm_writer.py --size-mib 512 --compression xz:1
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import (  # noqa: E402
    best_of,
    payload_pipe_cmd,
    rpmbuild_cmd,
    tree_entries,
    write_listing,
    writer_cmd,
)

_WORDS = ("eggroll rollsite clustermanager nodemanager fate_flow fateboard federatedml "
          "secure_add partition session_id job_id party_id INFO DEBUG WARN tensor").split()


def make_tree(root: Path, size: int, seed: int = 7) -> int:
    """Mixed content like a FATE release: text (python, logs), ELF binaries, random data."""
    rng = random.Random(seed)
    elves = [p for p in Path("/usr/bin").iterdir()
             if p.is_file() and not p.is_symlink() and p.stat().st_size > 50_000][:200]
    written = n = 0
    while written < size:
        kind = n % 3
        d = root / f"d{n % 97:02d}"
        d.mkdir(parents=True, exist_ok=True)
        if kind == 0:
            lines = [" ".join(rng.choices(_WORDS, k=12)) + f" {rng.random():.6f}\n"
                     for _ in range(rng.randint(200, 4000))]
            data = "".join(lines).encode()
        elif kind == 1:
            data = elves[n % len(elves)].read_bytes()
        else:
            data = rng.randbytes(rng.randint(16_000, 400_000))
        data = data[: size - written] or b"x"
        (d / f"f{n:06d}").write_bytes(data)
        written += len(data)
        n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--compression", default="gzip:6", help="gzip:N or xz:N")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="where the scratch tree goes (created if missing; default: $TMPDIR)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the tools interleaved N times; report each one's best run")
    args = ap.parse_args()
    kind, _, level = args.compression.partition(":")
    level = int(level or (6 if kind == "gzip" else 2))
    threads = os.cpu_count() or 1
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fate-bench-", dir=args.workdir))
    try:
        tree = work / "root" / "data/projects/bench"
        nfiles = make_tree(tree, args.size_mib << 20)
        size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
        subprocess.run(["sync"])
        spec = work / "bench.spec"
        spec.write_text(
            "Name: bench\nVersion: 1\nRelease: 1\nSummary: bench\nLicense: MIT\n"
            "BuildArch: x86_64\nAutoReqProv: no\n%description\nbench\n"
            "%files\n/data/projects/bench\n")
        write_listing(work / "root", tree, work / "list")
        tree_entries(tree, "/data/projects/bench", work / "entries")
        commands = {
            "fate-pkg writer": writer_cmd(work / "root", work / "entries", work / "ours", kind,
                                          level, threads),
            "rpmbuild": rpmbuild_cmd(spec, work / "root", work / "rb", kind, level, threads),
            f"cpio | {'pigz' if kind == 'gzip' else 'xz'} (raw)":
                payload_pipe_cmd(work / "root", work / "list", kind, level, threads),
        }
        timed = best_of(commands, args.repeat)
        results = {name: (t.seconds, t.rss_kib) for name, t in timed.items()}

        ours_t = results["fate-pkg writer"][0]
        print(f"\n{args.size_mib} MiB in {nfiles} files ({size / 2**20:.0f} MiB), "
              f"{kind}:{level}, {threads} threads, {os.cpu_count()} cores, "
              f"best of {max(1, args.repeat)}\n")
        print(f"{'tool':28} {'wall s':>8} {'MB/s':>8} {'peak RSS MiB':>13} {'ours/this':>10}")
        for name, (secs, rss) in results.items():
            print(f"{name:28} {secs:8.2f} {size / secs / 1e6:8.1f} {rss / 1024:13.1f} "
                  f"{ours_t / secs:10.2f}")
        print("\nours/this < 1: fate-pkg is faster; = 1: same time.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

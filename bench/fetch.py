#!/usr/bin/env python3
"""Benchmark: ``fate-pkg fetch`` of one large artifact against ``curl -o``, same server, same run.

A random (incompressible, like the release's .tar.gz files) artifact of --size-mib is served
from loopback by bench/fileserver.py (``sendfile``: the server costs next to no CPU). Then,
--repeat rounds, each running curl and ``fate-pkg fetch`` (a fresh process each, into an
empty target, verified against the pinned sha256), in alternating order so that a load
change or the page cache's state hits both alike; ``sync`` before every run, so neither
starts with the other's dirty pages to write back. The served file stays in the page cache
for all runs (written just before, read by every run).

Prints each run, the median and spread of both and the throughput ratio curl/fetch, the
load average before and after, and what a bare start of the CLI costs (``fate-pkg fetch
--help``: part of every fetch). Then a fetch killed (SIGKILL) at half and run again: it
must ask only for the bytes not on disk (``Range: bytes=<size on disk>-``).

fate-pkg runs with its bytecode compiled, as an installed package has it: the children get
a private ``PYTHONPYCACHEPREFIX`` (filled by a first, untimed start) even where the
environment sets ``PYTHONDONTWRITEBYTECODE``, which would make every run compile ~200
modules from source.

    .venv/bin/python bench/fetch.py --size-mib 2048 --repeat 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import ROOT, gnu_time, spread  # noqa: E402

PY = sys.executable


def _artifact(srv: Path, size_mib: int) -> tuple[Path, str]:
    blob = srv / "fate-bench-artifact.bin"
    digest = hashlib.sha256()
    with open(blob, "wb") as out:
        for _ in range(max(1, size_mib // 16)):
            chunk = os.urandom(16 << 20)
            digest.update(chunk)
            out.write(chunk)
    return blob, digest.hexdigest()


def _cpu() -> float:
    """CPU seconds (user + system) of the waited-for children so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def fetch_vs_curl(work: Path, size_mib: int, repeat: int, compare: Path | None = None) -> dict:
    """Interleaved curl / fetch runs, then kill-at-half and resume (see the module doc);
    ``compare``: another checkout's fetch in the same rounds (e.g. main's)."""
    srv = work / "srv"
    srv.mkdir()
    blob, sha = _artifact(srv, size_mib)
    size = blob.stat().st_size
    manifest = work / "fetch-release.yaml"
    manifest.write_text(
        "release: fate-bench-fetch\nversion: 1.4.5\nartifacts:\n"
        f"- name: {blob.name}\n  url: http://127.0.0.1:1/{blob.name}\n  size: {size}\n"
        f"  sha256: {sha}\n  component: python\n")
    reqlog = work / "requests.jsonl"
    server = subprocess.Popen([PY, str(ROOT / "bench/fileserver.py"), str(srv), str(reqlog)],
                              stdout=subprocess.PIPE, text=True)
    load_before = os.getloadavg()
    try:
        port = int(server.stdout.readline())
        mirror = f"http://127.0.0.1:{port}"

        pyc = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(work / "pycache")}
        for tree in (ROOT, compare) if compare else (ROOT,):  # compiles each tree once
            gnu_time([PY, "-m", "packager.cli", "fetch", "--help"], env=pyc, cwd=tree)

        def fetch(cache: Path, *extra: str) -> list[str]:
            return [PY, "-m", "packager.cli", "fetch", "--release", str(manifest), "--cache",
                    str(cache), "--mirror", mirror, "--json", *extra]

        cpu: dict[str, list[float]] = {}

        def curl_once() -> float:
            os.sync()
            c0 = _cpu()
            t = gnu_time(["curl", "-sSf", "-o", str(work / "curl.out"),
                          f"{mirror}/{blob.name}"]).seconds
            cpu.setdefault("curl", []).append(_cpu() - c0)
            (work / "curl.out").unlink()
            return t

        def fetch_once(tree: Path = ROOT) -> float:
            os.sync()
            c0 = _cpu()
            timed = gnu_time(fetch(work / "fetch-cache"), capture=True, env=pyc, cwd=tree)
            cpu.setdefault("fetch" if tree == ROOT else "compare", []).append(_cpu() - c0)
            got = json.loads(timed.stdout)["artifacts"][0]
            assert got["status"] == "downloaded" and got["sha256"] == sha, got
            shutil.rmtree(work / "fetch-cache")
            return timed.seconds

        curl_runs: list[float] = []
        fetch_runs: list[float] = []
        compare_runs: list[float] = []
        for i in range(max(1, repeat)):
            order = [(curl_runs, curl_once), (fetch_runs, fetch_once)]
            if compare:
                order.append((compare_runs, lambda: fetch_once(compare)))
            for runs, once in order if i % 2 == 0 else reversed(order):
                runs.append(once())
        startup = statistics.median(
            gnu_time([PY, "-m", "packager.cli", "fetch", "--help"], env=pyc).seconds
            for _ in range(3))
        load_after = os.getloadavg()

        cache = work / "resume-cache"
        reqlog.unlink(missing_ok=True)
        proc = subprocess.Popen(fetch(cache), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, **pyc})
        part = None
        while proc.poll() is None:
            parts = list(cache.rglob("*.part"))
            if parts and parts[0].stat().st_size >= size // 2:
                part = parts[0]
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        proc.wait()
        if part is None:
            raise SystemExit("fetch finished before it could be killed at half")
        on_disk = part.stat().st_size
        reqlog.unlink(missing_ok=True)
        resume = gnu_time(fetch(cache), capture=True, env=pyc)
        resumed = json.loads(resume.stdout)["artifacts"][0]
        assert resumed["status"] == "resumed" and resumed["sha256"] == sha, resumed
        asked = [json.loads(line) for line in reqlog.read_text().splitlines()]
        refetched = sum(max(0, on_disk - r["start"]) for r in asked)
        shutil.rmtree(cache)
    finally:
        server.terminate()
        server.wait()
    blob.unlink()
    fetch_s, curl_s = spread(fetch_runs), spread(curl_runs)
    more = {"compare_spread": spread(compare_runs)} if compare_runs else {}
    return {"fetch_bytes": size, "fetch_s": fetch_s["median"], "curl_s": curl_s["median"],
            "fetch_spread": fetch_s, "curl_spread": curl_s, **more, "cli_start_s": startup,
            "cpu_s": {k: spread(v) for k, v in cpu.items()},
            "load_before": load_before, "load_after": load_after,
            "resume_s": resume.seconds, "resume_on_disk": on_disk,
            "resume_requests": len(asked), "resume_ranges": [r["start"] for r in asked],
            "resume_refetched_bytes": refetched}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=None, help="parent of the scratch dir")
    ap.add_argument("--compare-code", type=Path, help="another checkout's fetch too")
    args = ap.parse_args()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fate-bench-fetch-", dir=args.workdir))
    try:
        out = fetch_vs_curl(work, args.size_mib, args.repeat, args.compare_code)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    f, c = out["fetch_spread"], out["curl_spread"]
    mib = out["fetch_bytes"] / 2**20
    print(f"{mib:.0f} MiB from loopback, {len(f['runs'])} runs each, alternating order")
    rows = [("curl -o", c), ("fate-pkg fetch", f)]
    if "compare_spread" in out:
        rows.append((f"fetch ({args.compare_code.name})", out["compare_spread"]))
    for name, s in rows:
        print(f"  {name:15} median {s['median']:6.2f}s  min {s['min']:6.2f}s  "
              f"max {s['max']:6.2f}s  ({mib / s['median']:.0f} MiB/s)  runs {s['runs']}")
    print(f"  throughput fetch/curl: {c['median'] / f['median']:.2f} (medians), "
          f"{c['min'] / f['min']:.2f} (best runs)")
    print(f"  of which CLI start (fate-pkg fetch --help): {out['cli_start_s']:.2f}s")
    print("  CPU (user+sys) per run, median: " + ", ".join(
        f"{k} {v['median']:.2f}s" for k, v in out["cpu_s"].items()))
    print("  load average before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
        *out["load_before"], *out["load_after"]))
    print(f"  killed at {out['resume_on_disk']} bytes on disk; the rerun took "
          f"{out['resume_s']:.2f}s with {out['resume_requests']} request(s) from "
          f"{out['resume_ranges']}: {out['resume_refetched_bytes']} bytes fetched twice")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

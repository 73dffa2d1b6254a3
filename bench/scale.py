#!/usr/bin/env python3
"""Benchmark: FATE at its real size, every step beside its peer, in one run on this machine.

Generates the release with the real profile (``--profile fate-1.4.5-full --scale S``), then:
  - the full offline ``fate-pkg build`` (extract, Python env, ABI check, RPMs, lint, bundle):
    wall and peak RSS by GNU time from outside, and its phases per file;
  - the no-op rebuild;
  - the build's floor: the compressor alone on the payloads' bytes plus what no build can
    skip, done by bare tools (``bench/floor.py``: untar, the installer, unzip, compileall),
    so the per-file overhead is what fate-pkg itself adds;
  - for each RPM built, its staged tree (the payload taken back out) packaged by our writer,
    by bare ``cpio -o -H newc | pigz`` and by rpmbuild at the same compression, interleaved;
  - ``rpm -i`` of all RPMs into a scratch root against ``tar -xzf`` of the same files;
  - the bundle step (from the build) against a plain ``cp`` of its RPMs;
  - ``fate-pkg fetch`` of a 2 GiB artifact from a loopback HTTP server against ``curl``,
    then a fetch killed at half and resumed (checked: it asks only for the missing bytes).
Prints progress and the indented result on stderr, and one JSON line on stdout. Needs
about 5x the release's size in free disk (release, cache copy, RPMs, bundle, one staged
tree at a time) plus --fetch-mib.

    .venv/bin/python bench/scale.py --scale 0.05
    .venv/bin/python bench/scale.py --scale 1 --repeat 2 --keep /var/tmp/fate-scale-1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fetch import fetch_vs_curl  # noqa: E402
from bench.floor import bare_tools  # noqa: E402
from bench.measure import (  # noqa: E402
    best_of,
    extract_rpm,
    gnu_time,
    payload_pipe_cmd,
    rpmbuild_cmd,
    spec_of_rpm,
    write_listing,
    writer_cmd,
)
from packager.release import load_release  # noqa: E402
from packager.rpm.reader import read_rpm  # noqa: E402
from packager.rpm.spec import parse_compression  # noqa: E402
from packager.sample.scaled import scaled_release  # noqa: E402

PY = sys.executable


def log(msg: str) -> None:
    print(f"[scale] {msg}", file=sys.stderr, flush=True)


def build_and_noop(work: Path, manifest: Path, cache: Path, comp: str, repeat: int) -> dict:
    dist = work / "dist"
    cmd = [PY, "-m", "packager.cli", "build", "--offline", "--release", str(manifest),
           "--cache", str(cache), "-o", str(dist), "--compression", comp, "--json"]
    full = gnu_time(cmd, capture=True)
    report = json.loads(full.stdout)
    noop = min((gnu_time(cmd, capture=True) for _ in range(max(1, repeat))),
               key=lambda t: t.seconds)
    assert all(p["status"] == "up to date" for p in json.loads(noop.stdout)["packages"])
    return {"build_s": full.seconds, "peak_rss_kib": full.rss_kib, "noop_s": noop.seconds,
            "noop_rss_kib": noop.rss_kib, "report": report, "dist": dist}


def packaging(work: Path, rpms: list[Path], kind: str, level: int, repeat: int) -> dict:
    """Per RPM, on its own payload: our writer, bare cpio|pigz, rpmbuild; best of N each."""
    threads = os.cpu_count() or 1
    totals = {"writer": 0.0, "pigz": 0.0, "rpmbuild": 0.0}
    rss = {"writer": 0, "rpmbuild": 0}
    files = payload = 0
    for rpm in rpms:
        root = work / "pkg-root"
        extract_rpm(rpm, root)
        paths, size = spec_of_rpm(rpm, work / "rb.spec", work / "entries")
        files += paths
        payload += size
        write_listing(root, root, work / "listing")
        commands = {
            "writer": writer_cmd(root, work / "entries", work / "w-out", kind, level, threads),
            # into a file, as the RPM is: the same bytes written, the same page cache
            "pigz": payload_pipe_cmd(root, work / "listing", kind, level, threads,
                                     str(work / "payload.cpio.gz")),
            "rpmbuild": rpmbuild_cmd(work / "rb.spec", root, work / "rb", kind, level, threads),
        }
        best = best_of(commands, repeat)
        log(f"  {rpm.name}: {paths} paths, writer {best['writer'].seconds:.1f}s, "
            f"cpio|pigz {best['pigz'].seconds:.1f}s, rpmbuild {best['rpmbuild'].seconds:.1f}s")
        for name, t in best.items():
            totals[name] += t.seconds
            if name in rss:
                rss[name] = max(rss[name], t.rss_kib)
        for d in (root, work / "w-out", work / "rb"):
            shutil.rmtree(d, ignore_errors=True)
        (work / "payload.cpio.gz").unlink(missing_ok=True)
    return {"files": files, "bytes": payload, "writer_s": totals["writer"],
            "pigz_s": totals["pigz"], "rpmbuild_s": totals["rpmbuild"],
            "writer_rss_kib": rss["writer"], "rpmbuild_rss_kib": rss["rpmbuild"]}


def install_vs_untar(work: Path, rpms: list[Path], repeat: int) -> dict:
    """``rpm -i`` (no deps, no scriptlets: a scratch root has no users or systemd) against
    ``tar -xzf`` of a gzip -6 tarball of exactly the files rpm put down."""
    root = work / "install-root"
    tarball = work / "same-files.tar.gz"
    best_i = best_u = float("inf")
    for i in range(max(1, repeat)):
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run(["rpm", "--root", str(root), "--initdb"], check=True,
                       stderr=subprocess.DEVNULL)
        t = gnu_time(["rpm", "--root", str(root), "-i", "--nodeps", "--noscripts",
                      "--nosignature", *map(str, rpms)])
        best_i = min(best_i, t.seconds)
        if i == 0:
            subprocess.run(f"tar -C {root} --exclude ./var/lib/rpm --exclude ./usr/lib/sysimage"
                           f" -cf - . | pigz -p2 -6 > {tarball}", shell=True, check=True)
        shutil.rmtree(root)
        untar = work / "untar-root"
        untar.mkdir()
        best_u = min(best_u, gnu_time(["tar", "-xzf", str(tarball), "-C", str(untar)]).seconds)
        shutil.rmtree(untar)
    tarball.unlink()
    return {"install_s": best_i, "untar_s": best_u}


def copy_rpms(work: Path, rpms: list[Path], repeat: int) -> float:
    best = float("inf")
    for _ in range(max(1, repeat)):
        dest = work / "copy"
        dest.mkdir()
        best = min(best, gnu_time(["cp", "--reflink=never", *map(str, rpms), str(dest)]).seconds)
        shutil.rmtree(dest)
    return best


def compressor_alone(work: Path, rpms: list[Path], kind: str, level: int) -> dict:
    """The compressor by itself on the very bytes of every payload (``rpm2cpio``'s cpio,
    from a file, into a file): what no packager can go under. The build's per-file
    overhead is its wall time beyond this, divided by its paths."""
    threads = os.cpu_count() or 1
    comp = f"pigz -p {threads} -{level}" if kind == "gzip" else f"xz -T{threads} -{level}"
    seconds = 0.0
    paths = 0
    cpio, out = work / "payload.cpio", work / "payload.out"
    for rpm in rpms:
        subprocess.run(f"rpm2cpio {rpm} > {cpio}", shell=True, check=True)
        paths += spec_of_rpm(rpm, work / "count.spec")[0]
        seconds += gnu_time(["sh", "-c", f"{comp} < {cpio} > {out}"]).seconds
    cpio.unlink(missing_ok=True)
    out.unlink(missing_ok=True)
    return {"compress_s": round(seconds, 2), "paths": paths}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="size of the fate-1.4.5-full profile (1 = ~100k paths, 5.3 GiB unpacked)")
    ap.add_argument("--compression", default="gzip:6", help="gzip:N or xz:N (default gzip:6)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="interleaved rounds of each timed comparison; the best is kept")
    ap.add_argument("--fetch-mib", type=int, default=2048, help="size of the fetched artifact")
    ap.add_argument("--workdir", type=Path, default=Path("/var/tmp"),
                    help="where the work directory is made (and removed)")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="move the built RPMs and the bundle into DIR")
    ap.add_argument("--generated", type=Path, metavar="DIR",
                    help="artifacts `python -m packager.sample DIR --profile fate-1.4.5-full "
                    "--scale S` already wrote (the same S): not generated again, not removed")
    ap.add_argument("--build-only", action="store_true",
                    help="the build, the no-op rebuild, the compressor alone and the floor: "
                    "the per-file costs at this scale, without the peers' comparisons")
    args = ap.parse_args()
    comp = parse_compression(args.compression)
    level = comp.resolved_level()
    work = Path(tempfile.mkdtemp(prefix="fate-bench-scale-", dir=args.workdir))
    out: dict = {"scale": args.scale, "compression": f"{comp.kind}:{level}",
                 "cores": os.cpu_count(), "repeat": args.repeat}
    try:
        if args.generated:
            log(f"the fate-1.4.5-full profile at scale {args.scale:g} from {args.generated}")
            manifest, cache, size = scaled_release(work, 0, "fate-1.4.5-full", args.scale,
                                                   generated=args.generated)
            out.update(artifact_bytes=size)
        else:
            log(f"generating the fate-1.4.5-full profile at scale {args.scale:g} in {work}")
            gen = gnu_time([PY, "-m", "packager.sample", str(work / "artifacts"), "--profile",
                            "fate-1.4.5-full", "--scale", str(args.scale)])
            manifest, cache, size = scaled_release(work, 0, "fate-1.4.5-full", args.scale,
                                                   generated=work / "artifacts")
            out.update(gen_s=gen.seconds, gen_rss_kib=gen.rss_kib, artifact_bytes=size)
            shutil.rmtree(work / "artifacts")  # the cache holds its own copy
        out["load_before"] = os.getloadavg()[0]

        log("full offline build, then the no-op rebuild")
        built = build_and_noop(work, manifest, cache.root, args.compression, args.repeat)
        report, dist = built.pop("report"), built.pop("dist")
        out.update(built)
        out["phases"] = report.get("phases", {})
        rpms = sorted(dist.glob("*.rpm"))
        out["rpms"] = len(rpms)
        out["rpm_bytes"] = sum(p.stat().st_size for p in rpms)
        out["max_header_bytes"] = max(read_rpm(p).header.data_length for p in rpms)
        out["bundle_s"] = report["bundle"]["seconds"]
        out["bundle_bytes"] = report["bundle"]["size"]

        log("the compressor alone on the payloads' bytes")
        alone = compressor_alone(work, rpms, comp.kind, level)
        out["compress_s"] = alone["compress_s"]
        out["files"] = alone["paths"]
        log("the build's other unavoidable work by bare tools: untar, installer, unzip, "
            "compileall")
        out["floor"] = bare_tools(work, [cache.lookup(a) for a in
                                         load_release(manifest).artifacts])
        out["floor_s"] = round(out["compress_s"] + sum(
            v for k, v in out["floor"].items() if k.endswith("_s")), 2)
        if not args.build_only:
            log(f"packaging the {len(rpms)} staged trees: writer, cpio|pigz, rpmbuild")
            out.update(packaging(work, rpms, comp.kind, level, args.repeat))
            log("rpm -i into a scratch root vs tar -x")
            out.update(install_vs_untar(work, rpms, args.repeat))
            log("bundle vs plain copy")
            out["copy_s"] = copy_rpms(work, rpms, args.repeat)
            if args.fetch_mib > 0:
                log(f"fetch vs curl, {args.fetch_mib} MiB; kill at half and resume")
                out.update(fetch_vs_curl(work, args.fetch_mib, args.repeat))
        out["load_after"] = os.getloadavg()[0]
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for p in [*rpms, Path(report["bundle"]["path"])]:
                shutil.move(str(p), args.keep / p.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    files = max(out.get("files", 0), 1)
    out["per_file_us"] = {k: round(v / files * 1e6, 1) for k, v in out.get("phases", {}).items()}
    out["per_file_us"]["build"] = round(out["build_s"] / files * 1e6, 1)
    # what the whole build costs per file beyond compressing the same bytes (issue #12's
    # "per-file overhead"), and the RPM phase's (the writer's) own part of it
    out["per_file_us"]["build_beyond_compressor"] = round(
        (out["build_s"] - out["compress_s"]) / files * 1e6, 1)
    # the same beyond all the unavoidable work (bench/floor.py): what fate-pkg itself adds
    out["per_file_us"]["build_beyond_floor"] = round(
        (out["build_s"] - out["floor_s"]) / files * 1e6, 1)
    out["per_file_us"]["rpm_beyond_compressor"] = round(
        (out.get("phases", {}).get("rpm", 0) - out["compress_s"]) / files * 1e6, 1)
    if args.build_only:
        log(json.dumps(out, indent=1))
        print(json.dumps(out))
        return 0
    out["per_file_us"]["build_beyond_pigz"] = round((out["build_s"] - out["pigz_s"]) / files
                                                    * 1e6, 1)
    out["ratios"] = {
        "writer/pigz": out["writer_s"] / out["pigz_s"],
        "rpmbuild/writer": out["rpmbuild_s"] / out["writer_s"],
        "install/untar": out["install_s"] / out["untar_s"],
        "bundle/copy": out["bundle_s"] / out["copy_s"],
        **({"fetch/curl": out["fetch_s"] / out["curl_s"]} if "fetch_s" in out else {}),
    }
    out["ratios"] = {k: round(v, 3) for k, v in out["ratios"].items()}
    for key in ("writer_s", "pigz_s", "rpmbuild_s", "install_s", "untar_s", "copy_s"):
        out[key] = round(out[key], 2)
    log(json.dumps(out, indent=1))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What every benchmark here shares: timing a command from outside, and driving the peers.

Every tool (ours included) is started the same way, by GNU time in a child process, so no
figure carries the memory of the benchmark's own Python process, and each is compared with
its peer (rpmbuild, bare cpio|pigz) on the very same files in the same run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Timed:
    seconds: float
    rss_kib: int
    stdout: str


def gnu_time(cmd: Sequence[str], *, cwd: Path | None = None, capture: bool = False,
             env: Mapping[str, str] | None = None) -> Timed:
    """Wall seconds and peak RSS (KiB) of ``cmd``, both read by GNU time from outside."""
    with tempfile.NamedTemporaryFile("r") as out:
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", out.name, *cmd], cwd=cwd,
                           stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True,
                           env=None if env is None else {**os.environ, **env})
        if r.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed ({r.returncode}): {r.stderr[-2000:]}")
        secs, rss = out.read().split()[-2:]
    return Timed(float(secs), int(rss), r.stdout or "")


def spread(runs: Sequence[float]) -> dict:
    """Median, min, max and every run: what a figure from a shared machine must show."""
    return {"median": round(statistics.median(runs), 3), "min": round(min(runs), 3),
            "max": round(max(runs), 3), "runs": [round(r, 3) for r in runs]}


def best_of(commands: Mapping[str, Sequence[str]], repeat: int,
            cwd: Path | None = None) -> dict[str, Timed]:
    """Each command's best wall time (and highest RSS) over ``repeat`` interleaved rounds:
    a load change on the shared machine then hits every tool alike."""
    best: dict[str, Timed] = {}
    for _ in range(max(1, repeat)):
        for name, cmd in commands.items():
            t = gnu_time(cmd, cwd=cwd)
            old = best.get(name)
            best[name] = t if old is None else Timed(min(t.seconds, old.seconds),
                                                     max(t.rss_kib, old.rss_kib), "")
    return best


def writer_cmd(root: Path, entries: Path, out_dir: Path, kind: str, level: int,
               threads: int) -> list[str]:
    """Our writer in a fresh process, on the paths of ``entries`` (``spec_of_rpm`` writes it:
    ``path<TAB>kind<TAB>mode`` lines) with their bytes taken from below ``root``."""
    code = ("import os, sys; sys.path.insert(0, sys.argv[1]);"
            "from pathlib import Path;"
            "from packager.rpm import Compression, Package, build_rpm;"
            "from packager.rpm.model import FileEntry;"
            "root = sys.argv[2];"
            "rows = [line.split('\\t') for line in open(sys.argv[3]).read().splitlines()];"
            "files = [FileEntry(p, k, mode=int(m), source=root + p if k == 'file' else None,"
            " link_target=os.readlink(root + p) if k == 'symlink' else '')"
            " for p, k, m in rows];"
            "pkg = Package(name='bench', version='1', release='1', summary='bench',"
            " files=files);"
            "build_rpm(pkg, Path(sys.argv[4]), compression=Compression(sys.argv[5],"
            " int(sys.argv[6]), int(sys.argv[7])), sde=1600000000)")
    return [sys.executable, "-c", code, str(ROOT), str(root), str(entries), str(out_dir), kind,
            str(level), str(threads)]


def tree_entries(root: Path, dest: str, entries: Path) -> int:
    """``writer_cmd``'s entry list for every path below ``root``, placed under ``dest``."""
    rows = []
    for p in sorted(root.rglob("*")):
        kind = "symlink" if p.is_symlink() else "dir" if p.is_dir() else "file"
        mode = 0o777 if kind == "symlink" else p.stat().st_mode & 0o7777
        rows.append(f"{dest.rstrip('/')}/{p.relative_to(root)}\t{kind}\t{mode}\n")
    entries.write_text("".join(rows))
    return len(rows)


def payload_pipe_cmd(root: Path, listing: Path, kind: str, level: int, threads: int,
                     out: str = "/dev/null") -> list[str]:
    """The bare payload pipeline over the paths in ``listing`` (relative to ``root``):
    ``cpio -o -H newc | pigz`` (or ``xz``), the floor any RPM writer is measured against.
    ``out``: where the compressed bytes go (a file, to pay the same writes as an RPM)."""
    comp = f"pigz -p {threads} -{level}" if kind == "gzip" else f"xz -T{threads} -{level}"
    return ["bash", "-c", f"cd {root} && cpio -o -H newc --quiet < {listing} | {comp} "
                          f"> {out}"]


def write_listing(root: Path, tree: Path, listing: Path) -> int:
    """Every path below ``tree``, relative to ``root``, sorted, into ``listing``."""
    paths = sorted(str(p.relative_to(root)) for p in tree.rglob("*"))
    listing.write_text("".join(p + "\n" for p in paths))
    return len(paths)


def rpmbuild_cmd(spec: Path, buildroot: Path, topdir: Path, kind: str, level: int,
                 threads: int) -> list[str]:
    """rpmbuild packaging ``buildroot`` as it is: no brp scripts, no debuginfo, the same
    compression (gzip in rpm is single-threaded; xz gets the same thread count)."""
    payload = f"w{level}.gzdio" if kind == "gzip" else f"w{level}T{threads}.xzdio"
    return ["rpmbuild", "-bb", str(spec), "--buildroot", str(buildroot),
            "--define", f"_topdir {topdir}", "--define", f"_binary_payload {payload}",
            "--define", "__os_install_post %{nil}",
            "--define", "__spec_install_post %{nil}",
            "--define", "debug_package %{nil}", "--define", "_build_id_links none",
            "--define", "_binary_filedigest_algorithm 8", "--noclean",
            "--define", "_unpackaged_files_terminate_build 0"]


def spec_of_rpm(rpm: Path, spec: Path, entries: Path | None = None) -> tuple[int, int]:
    """Write an rpmbuild spec listing the files of ``rpm`` (extracted elsewhere) as they are,
    and ``writer_cmd``'s entry list of the same paths; returns (paths, regular-file bytes)."""
    listing = subprocess.run(
        ["rpm", "-qp", "--qf", "[%{FILENAMES}\t%{FILEMODES}\t%{FILEFLAGS}\t%{FILESIZES}\n]",
         str(rpm)], capture_output=True, text=True, check=True).stdout.splitlines()
    files, rows, payload = [], [], 0
    kinds = {0o040000: "dir", 0o100000: "file", 0o120000: "symlink"}
    for line in listing:
        name, mode_s, flags_s, fsize = line.rsplit("\t", 3)
        mode, flags = int(mode_s) & 0xFFFF, int(flags_s)
        if flags & 64:
            files.append(f'%ghost "{name}"')  # not in the payload
            continue
        kind = kinds[mode & 0o170000]
        payload += int(fsize) if kind == "file" else 0
        files.append(("%dir " if kind == "dir" else "") + f'"{name}"')
        rows.append(f"{name}\t{kind}\t{mode & 0o7777}\n")
    spec.write_text("Name: rb\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\n"
                    "AutoReqProv: no\n%description\ns\n%files\n" + "\n".join(files) + "\n")
    if entries is not None:
        entries.write_text("".join(rows))
    return len(files), payload


def extract_rpm(rpm: Path, root: Path) -> None:
    """The payload of ``rpm`` into ``root``, as rpm would lay it out (no scriptlets)."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(f"rpm2cpio {rpm} | cpio -idm --quiet", shell=True, cwd=root, check=True)

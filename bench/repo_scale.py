"""Scale check of the OS closure: a CentOS-sized primary.xml.gz, parsed and resolved.

CentOS 7.9 "os" has ~10k packages and "updates" several thousand more; this writes a
synthetic primary with N packages (default 20000) of realistic shape (12 provides,
15 requires, 8 primary files each, chains of soname dependencies) with createrepo_c,
then times ``parse_primary`` + ``resolve`` and reports peak RSS.

    .venv/bin/python bench/repo_scale.py [N]
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import createrepo_c as cr

from packager.repo.closure import Requirement, resolve
from packager.repo.metadata import Repo, parse_primary
from packager.rpm import Dependency


def write_primary(path: Path, count: int) -> None:
    rng = random.Random(1)
    xml = cr.PrimaryXmlFile(str(path), cr.GZ_COMPRESSION)
    xml.set_num_of_pkgs(count)
    for i in range(count):
        pkg = cr.Package()
        pkg.name, pkg.epoch, pkg.version, pkg.release = f"pkg{i}", "0", "1.2.3", "1.el7"
        pkg.arch = "i686" if i % 10 == 9 else ("noarch" if i % 7 == 0 else "x86_64")
        pkg.pkgId, pkg.checksum_type = f"{i:064x}", "sha256"
        pkg.location_href = f"Packages/pkg{i}-1.2.3-1.el7.{pkg.arch}.rpm"
        pkg.size_package = 100_000 + i
        pkg.summary = pkg.description = f"package {i}"
        pkg.provides = [(f"pkg{i}", "EQ", "0", "1.2.3", "1.el7", False)] + [
            (f"libp{i}_{k}.so.1()(64bit)", None, None, None, None, False) for k in range(11)]
        deps = sorted({d for d in (rng.randrange(max(i, 1)) for _ in range(15))
                       if d % 10 != 9}) if i else []
        pkg.requires = [(f"libp{d}_{d % 11}.so.1()(64bit)", None, None, None, None, False)
                        for d in deps]
        pkg.files = [("", "/usr/bin/", f"tool{i}_{k}") for k in range(8)]
        xml.add_pkg(pkg)
    xml.close()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with tempfile.TemporaryDirectory() as tmp:
        primary = Path(tmp) / "primary.xml.gz"
        started = time.monotonic()
        write_primary(primary, count)
        print(f"wrote {count} packages: {primary.stat().st_size / 2**20:.1f} MiB gz "
              f"in {time.monotonic() - started:.1f}s")
        started = time.monotonic()
        packages = parse_primary(primary, "http://mirror.invalid/os/", "bench")
        parsed = time.monotonic() - started
        started = time.monotonic()
        reqs = [Requirement("fate-x", Dependency.parse(f"pkg{count - 1 - k * 3}"))
                for k in range(10) if (count - 1 - k * 3) % 10 != 9]
        closure = resolve(reqs, [Repo("http://mirror.invalid/os/", packages)], ())
        resolved = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"parse {parsed:.1f}s, resolve {resolved:.1f}s ({len(closure.packages)} packages "
          f"in the closure), peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()

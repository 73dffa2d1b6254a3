"""A small el7-shaped yum repository pair ("os" + "updates"), built for real.

The RPMs come from our writer with the Requires/Provides/files the real CentOS 7 packages
have (sonames with ``()(64bit)``, ``name(x86-64) = EVR``, ``/bin/sh`` and
``/usr/bin/python3`` as files); the metadata comes from createrepo_c's Python bindings
(gzip, like the CentOS mirrors and what yum 3.4.3 reads). Package data lives in
``el7repo.yaml`` next to this file.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import createrepo_c as cr
import yaml

import packager.rpm.writer as writer
from packager.rpm import Compression, Dependency, FileEntry, Package, build_rpm

DATA = Path(__file__).with_name("el7repo.yaml")
SDE = 1_600_000_000


@contextlib.contextmanager
def _allow_i686() -> Iterator[None]:
    """Our writer refuses i686 (we never ship it); the repo needs one real i686 build."""
    original = writer.validate

    def relaxed(pkg: Package) -> list[str]:
        return [e for e in original(pkg) if not e.startswith("arch:")]

    writer.validate = relaxed
    try:
        yield
    finally:
        writer.validate = original


def _package(spec: dict, src: Path) -> Package:
    name, arch = spec["name"], spec.get("arch", "x86_64")
    files = [FileEntry(f"/usr/share/doc/{name}-{spec['version']}/README", source=src)]
    for path in spec.get("files", []):
        if " -> " in path:
            link, target = path.split(" -> ")
            files.append(FileEntry(link, "symlink", link_target=target))
        else:
            files.append(FileEntry(path, source=src, mode=0o755))
    return Package(
        name=name, version=str(spec["version"]), release=str(spec["release"]),
        epoch=spec.get("epoch"), arch=arch, summary=f"{name} for the closure tests",
        files=files,
        requires=[Dependency.parse(d) for d in spec.get("requires", [])],
        provides=[Dependency.parse(d) for d in spec.get("provides", [])],
        obsoletes=[Dependency.parse(d) for d in spec.get("obsoletes", [])],
    )


def build_repos(root: Path, *, extra: dict[str, list[dict]] | None = None) -> dict[str, Path]:
    """Write ``root/<repo>/Packages/*.rpm`` + ``repodata/`` for each repo of the YAML."""
    data = yaml.safe_load(DATA.read_text())
    for repo, specs in (extra or {}).items():
        data.setdefault(repo, []).extend(specs)
    src = root / "README"
    root.mkdir(parents=True, exist_ok=True)
    src.write_text("closure test package\n")
    out = {}
    with _allow_i686():
        for repo, specs in data.items():
            pkgdir = root / repo / "Packages"
            for spec in specs:
                build_rpm(_package(spec, src), pkgdir, compression=Compression("gzip", 1),
                          sde=SDE)
            writer.clean_stale_temporaries(pkgdir)
            write_metadata(root / repo)
            out[repo] = root / repo
    return out


def write_metadata(repo: Path) -> None:
    """primary/filelists/other .xml.gz + repomd.xml for the RPMs under ``repo/Packages``."""
    repodata = repo / "repodata"
    shutil.rmtree(repodata, ignore_errors=True)
    repodata.mkdir(parents=True)
    paths = {kind: repodata / f"{kind}.xml.gz" for kind in ("primary", "filelists", "other")}
    files = {"primary": cr.PrimaryXmlFile(str(paths["primary"]), cr.GZ_COMPRESSION),
             "filelists": cr.FilelistsXmlFile(str(paths["filelists"]), cr.GZ_COMPRESSION),
             "other": cr.OtherXmlFile(str(paths["other"]), cr.GZ_COMPRESSION)}
    rpms = sorted((repo / "Packages").glob("*.rpm"))
    for xml in files.values():
        xml.set_num_of_pkgs(len(rpms))
    for rpm in rpms:
        pkg = cr.package_from_rpm(str(rpm))
        pkg.location_href = f"Packages/{rpm.name}"
        files["primary"].add_pkg(pkg)
        files["filelists"].add_pkg(pkg)
        files["other"].add_pkg(pkg)
    repomd = cr.Repomd()
    repomd.set_revision(str(SDE))
    for kind, xml in files.items():
        xml.close()
        record = cr.RepomdRecord(kind, str(paths[kind]))
        record.fill(cr.SHA256)
        record.rename_file()  # <sha256>-primary.xml.gz, like the real mirrors
        repomd.set_record(record)
    (repodata / "repomd.xml").write_text(repomd.xml_dump())


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as {relative path: bytes}, for the HTTP test mirror."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}

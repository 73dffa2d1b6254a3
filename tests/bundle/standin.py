"""A tiny "el7 base" stand-in RPM: what a CentOS 7 @core install gives our packages.

An empty install root has nothing, and our RPMs need ``/bin/sh`` (every scriptlet),
``shadow-utils`` (fate-common's %pre runs getent/groupadd/useradd) and ``python3``
(fate-tools). The stand-in carries real programs that work chrooted (the host's dash,
getent, useradd, groupadd and their libraries, busybox for the small utilities; built by
``support.rpmtool.make_scratch_root``) and Provides the @core names they stand for. It is
written with our own RPM writer; its repository metadata comes from the createrepo_c CLI
(an independent writer, not the bundle code under test).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from packager.rpm import Compression, Dependency, FileEntry, Package, build_rpm
from support.rpmtool import make_scratch_root

SDE = 1_600_000_000
#: What @core provides that our packages require, with CentOS 7.9's versions.
PROVIDES = ["shadow-utils = 2:4.6-5.el7", "python3 = 3.6.8-18.el7", "bash = 4.2.46-34.el7",
            "coreutils = 8.22-24.el7", "glibc = 2.17-317.el7"]
CREATEREPO = Path(sys.executable).with_name("createrepo_c")


def standin_package(tree: Path) -> Package:
    files: list[FileEntry] = []
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = "/" + path.relative_to(tree).as_posix()
            if rel.startswith("/var/lib/rpm"):
                continue
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                files.append(FileEntry(rel, "symlink", link_target=os.readlink(path)))
            elif stat.S_ISREG(st.st_mode):
                files.append(FileEntry(rel, source=path, mode=stat.S_IMODE(st.st_mode)))
            # Directories are left out: our writer refuses to own system directories (el7
            # rule 10), and rpm creates a file's missing parents itself. /dev/null (a
            # device) cannot be packaged: a redirection to it makes a plain file.
    return Package(name="el7-core-standin", version="7.9", release="1", arch="x86_64",
                   summary="stand-in for the CentOS 7 @core packages FATE's RPMs need",
                   files=files, provides=[Dependency.parse(p) for p in PROVIDES])


def build_standin_repo(work: Path) -> Path:
    """A yum repository (``work/base``) holding only the stand-in."""
    tree = make_scratch_root(work / "standin-tree")
    repo = work / "base"
    build_rpm(standin_package(tree), repo, compression=Compression("gzip", 1), sde=SDE)
    subprocess.run([str(CREATEREPO), "-q", "--compatibility", str(repo)], check=True)
    return repo

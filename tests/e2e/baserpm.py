"""The "base" RPM: the stand-in for CentOS 7's @core install in the e2e containers.

The container is Debian: its programs (sh, bash, useradd, systemctl, python3) come from dpkg
and its rpm database starts empty, so dnf would refuse our RPMs with "nothing provides
/bin/sh". On a real CentOS 7 host those requirements are met by the @core group
(specs/el7/core-packages.txt) plus the OS closure the bundle ships (python3). This package
Provides exactly those names and the file paths scriptlets and units use, and nothing else:
a requirement our specs gain that CentOS 7 would not meet is still refused here.
It is built with our own RPM writer, the same code that builds the FATE RPMs.
"""

from __future__ import annotations

from pathlib import Path

from packager.rpm import Compression, build_rpm
from packager.rpm.spec import package_from_dict

from .rootfs import recipe_key

REPO = Path(__file__).resolve().parents[2]
NAME = "el7-core-standin"
#: Beyond @core: what the bundle's OS closure brings on CentOS 7, and Debian has natively.
OS_CLOSURE = ("python3", "python3-libs")
#: File paths that rpm/dnf match against file provides (scriptlet interpreters, shells).
PATHS = ("/bin/sh", "/bin/bash", "/usr/bin/python3", "/usr/bin/systemctl")
#: What centos-release (in @core through basesystem) provides: yum and dnf read $releasever
#: from system-release(releasever), so install.sh's plain `dnf install` works as on CentOS.
RELEASE = ("centos-release = 7-9.2009.1.el7.centos", "redhat-release = 7.9",
           "system-release = 7-9.2009.1.el7.centos", "system-release(releasever) = 7")

README = """el7-core-standin: the packages of CentOS 7's @core group (and python3), as provides
only. The programs themselves are Debian's, installed by debootstrap in this test root.
"""


def core_names() -> list[str]:
    text = (REPO / "specs/el7/core-packages.txt").read_text()
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def build_base_rpm(out_dir: Path) -> Path:
    """Write the base RPM into ``out_dir`` and return its path."""
    src = out_dir / ".base-src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "README").write_text(README)
    provides = [*core_names(), *OS_CLOSURE, *PATHS, *RELEASE]
    data = {
        "name": NAME, "version": "7.9.2009", "release": recipe_key(), "arch": "noarch",
        "summary": "Stand-in for the CentOS 7 @core base in fate-pkg e2e containers",
        "description": README, "license": "Apache-2.0", "group": "System Environment/Base",
        "files": [{"src": "README", "dst": f"/usr/share/doc/{NAME}/README", "doc": True},
                  {"dst": f"/usr/share/doc/{NAME}", "dir": True}],
        "provides": provides,
    }
    pkg, _ = package_from_dict(data, src, "e2e base RPM")
    return build_rpm(pkg, out_dir, compression=Compression("gzip", 6), sde=1601164800).path

"""What the fate-deploy tests share: the seed's inventory and party, and a bundle directory
with repodata and SHA256SUMS but no real RPMs (fate-deploy reads only the metadata).

On-host test helpers: Python 3.6, nothing of the build side (they run in the 3.6 pass of
tests/onhost/test_on_python36.py too).
"""

import gzip
import hashlib
from pathlib import Path
from typing import Dict, Sequence, Tuple

from packager.onhost.configure.model import Party

SEED_HOSTS = """\
[fate]
192.168.0.1
192.168.0.2

[deploy_check]
192.168.0.1

[all:vars]
ansible_connection=ssh
ansible_ssh_port=22
ansible_ssh_user=app
#ansible_ssh_pass=test
##method: sudo or su
ansible_become_method=sudo
ansible_become_user=root
ansible_become_pass=
"""


def seed_party(nodemanagers: Sequence[str] = ("192.168.0.2",)) -> Party:
    """The seed's guest party: everything on 192.168.0.1 but the nodemanagers."""
    a = "192.168.0.1"
    return Party({"guest": {
        "partyid": 9999,
        "rollsite": {"ips": [a], "port": 9370},
        "clustermanager": {"ips": [a], "port": 4670},
        "nodemanager": {"ips": list(nodemanagers), "port": 4671},
        "fate_flow": {"ips": [a], "grpcPort": 9360, "httpPort": 9380},
        "fateboard": {"ips": [a], "port": 8080},
        "mysql": {"ips": [a], "port": 3306}}})


PRIMARY = """<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common"
 xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="{n}">{body}</metadata>"""
PACKAGE = """<package type="rpm"><name>{name}</name>
<size package="10" installed="100" archive="20"/><location href="rpms/{name}.rpm"/>
<format><rpm:provides>{provides}</rpm:provides><rpm:requires>{requires}</rpm:requires>
{files}</format></package>"""
#: A package of a fake bundle: (provides, requires, files).
Spec = Tuple[Sequence[str], Sequence[str], Sequence[str]]


def fake_bundle(root: Path, packages: Dict[str, Spec]) -> str:
    """A bundle directory whose repodata holds ``packages``: name -> (provides, requires,
    files); each RPM is a few bytes (only the metadata is read)."""
    top = root / "fate-bundle-1.4.5-el7.x86_64"
    (top / "rpms").mkdir(parents=True)
    (top / "repodata").mkdir()
    body = ""
    for name, (provides, requires, files) in packages.items():
        (top / "rpms" / f"{name}.rpm").write_bytes(name.encode())
        body += PACKAGE.format(
            name=name, provides="".join(f'<rpm:entry name="{p}"/>' for p in provides),
            requires="".join(f'<rpm:entry name="{r}"/>' for r in requires),
            files="".join(f"<file>{f}</file>" for f in files))
    (top / "repodata/primary.xml.gz").write_bytes(gzip.compress(
        PRIMARY.format(n=len(packages), body=body).encode()))
    (top / "repodata/repomd.xml").write_text(
        '<repomd xmlns="http://linux.duke.edu/metadata/repo"><data type="primary">'
        '<location href="repodata/primary.xml.gz"/></data></repomd>')
    (top / "install.sh").write_text("#!/bin/bash\n")
    (top / "packages.txt").write_text("fate-eggroll\n")
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(top)}\n"
                   for p in sorted(top.rglob("*")) if p.is_file())
    (top / "SHA256SUMS").write_text(sums)
    return str(top)

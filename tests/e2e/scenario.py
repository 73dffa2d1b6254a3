"""Steps of the user's story, run inside a container, with the checks every scenario shares."""

from __future__ import annotations

import json
import subprocess
import time

from .container import Container

UNITS = ("fate-mysql", "fate-clustermanager", "fate-nodemanager", "fate-rollsite", "fate-flow",
         "fate-board")
PORTS = {"fate-mysql": (3306,), "fate-clustermanager": (4670,), "fate-nodemanager": (4671,),
         "fate-rollsite": (9370,), "fate-flow": (9360, 9380), "fate-board": (8080,)}
FATE_RPMS = ("fate-common", "fate-tools", "fate-jdk", "fate-python", "fate-mysql",
             "fate-eggroll", "fate-flow", "fate-board")
TOY_LINE = "success to calculate secure_sum, it is 1999.9999999999998"
#: Where the container sees the files the test hands it (a read-only bind of a host dir).
DROP = "/e2e"

DNF = ("dnf -y --releasever=7 --setopt=reposdir=/dev/null --nogpgcheck "
       "--setopt=install_weak_deps=False")


def prepare_os(box: Container) -> None:
    """The host as CentOS 7 would be before FATE: @core in the rpm database (baserpm.py)."""
    box.run("rpm", "-i", "--quiet", *box.run("sh", "-c", f"ls {DROP}/os/*.rpm").stdout.split())


def install_bundle(box: Container, bundle: str = "bundle.tar") -> subprocess.CompletedProcess:
    """The documented path: unpack the bundle (``bundle`` in the drop), run its install.sh."""
    box.sh(f"mkdir -p /opt/bundle && tar -xf {DROP}/{bundle} -C /opt/bundle")
    return box.sh("/opt/bundle/fate-bundle-*/install.sh", timeout=600)


def install_from_repo(box: Container, rpms: str = f"{DROP}/rpms") -> str:
    """What the bundle's install.sh does: a local repo (createrepo_c) and dnf from it only."""
    return box.sh(
        f"rm -rf /var/tmp/fate-repo && cp -r {rpms} /var/tmp/fate-repo && "
        "createrepo_c -q /var/tmp/fate-repo && "
        f"{DNF} --repofrompath=fate,file:///var/tmp/fate-repo --disablerepo='*' "
        "--enablerepo=fate install " + " ".join(FATE_RPMS), timeout=600).stdout


def localinstall(box: Container, rpms: str = f"{DROP}/rpms") -> str:
    """The ``yum localinstall fate-*.rpm`` path: the files themselves, no repository."""
    return box.sh(f"{DNF} --disablerepo='*' localinstall {rpms}/*.rpm", timeout=600).stdout


def configure(box: Container, party_yaml: str, *args: str, check: bool = True):
    box.write("/root/party.yaml", party_yaml)
    return box.run("fate-configure", "/root/party.yaml", *args, check=check, timeout=300)


def start_target(box: Container) -> float:
    """``systemctl start fate.target``; returns seconds until it returned (every unit's
    ExecStartPost waits for its ports, so returning means healthy)."""
    t0 = time.monotonic()
    box.run("systemctl", "start", "fate.target", timeout=300)
    return time.monotonic() - t0


def active_units(box: Container, units=UNITS) -> dict[str, str]:
    return {u: box.show(f"{u}.service", "ActiveState")["ActiveState"] for u in units}


def closed_ports(box: Container, endpoints: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Endpoints that do not accept a TCP connection, tried from inside the container."""
    code = ("import socket,sys\nbad=[]\nfor hp in sys.argv[1:]:\n h,p=hp.rsplit(':',1)\n"
            " try: socket.create_connection((h,int(p)),3).close()\n"
            " except OSError: bad.append(hp)\nprint(' '.join(bad))\n")
    out = box.run("python3", "-c", code, *(f"{h}:{p}" for h, p in endpoints)).stdout.split()
    return [(h, int(p)) for h, p in (x.rsplit(":", 1) for x in out)]


def status(box: Container) -> tuple[int, dict[str, dict]]:
    proc = box.run("fate-ctl", "status", "--json", check=False)
    rows = {r["service"]: r for r in json.loads(proc.stdout)["services"]}
    return proc.returncode, rows


def wait_status_green(box: Container, timeout: float = 90) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    rc, rows = status(box)
    while time.monotonic() < deadline:
        rc, rows = status(box)
        if rc == 0 and all(r["healthy"] for r in rows.values()):
            return rows
        time.sleep(1)
    raise AssertionError(f"fate-ctl status not green after {timeout}s: rc={rc} {rows}")


def toy(box: Container, *parties: str) -> str:
    """``fate-ctl toy``; returns its success line (asserting there is one, with FATE's text)."""
    proc = box.run("fate-ctl", "toy", *parties, check=False, timeout=400)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("toy: success:")]
    assert len(lines) == 1 and lines[0].endswith(TOY_LINE), proc.stdout
    return lines[0]


def snapshot(box: Container, *paths: str) -> str:
    """Path, mode, owner, size, mtime and sha256 of every file under ``paths`` (sorted)."""
    return box.sh(
        "for p in " + " ".join(paths) + "; do [ -e \"$p\" ] && find \"$p\" -xdev "
        "\\( -type f -o -type l \\) -printf '%p %m %u %s %T@\\n'; done | sort; "
        "for p in " + " ".join(paths) + "; do [ -e \"$p\" ] && find \"$p\" -xdev -type f "
        "-exec sha256sum {} +; done | sort", check=False).stdout


#: "what: seconds" lines, printed at the end of the run (pytest's terminal summary).
TIMINGS: list[str] = []


def timing(what: str, seconds: float) -> None:
    TIMINGS.append(f"{what}: {seconds:.1f} s")

"""The miniature FATE 1.4.5 release: artifact names, trees and nesting.

Names and nesting follow the real 1.4.5 downloads (reference/fate-1.4-deploy.md §1.3,
FATE's Fate_step_by_step_install_zh.md §5): four top-level archives, two of which hold
further archives, exactly as an installer unpacks them.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable, Dict

from packager.sample import filler, payload
from packager.sample.archive import (
    Entry,
    Tree,
    file,
    prefixed,
    tar_gz_file,
    write_tar_gz,
    zip_bytes,
)
from packager.sample.full import requirements as bulk_requirements
from packager.sample.wheels import wheel

VERSION = "1.4.5"
MINICONDA = "Miniconda3-4.5.4-Linux-x86_64.sh"
VIRTUALENV_VERSION = "20.0.18"
PIP_BUNDLE = f"pip-packages-fate-{VERSION}"
EGGROLL_VERSION = "2.0.2"
FATEBOARD_VERSION = "1.4.2"
JDK_TOP = "jdk1.8.0_192"
MYSQL_TOP = "mysql-8.0.13"

PYTHON_ENV = f"python-env-{VERSION}-release.tar.gz"
JDK = "jdk-8u192-linux-x64.tar.gz"
MYSQL = f"mysql-{VERSION}-release.tar.gz"
FATE_INSTALL = f"FATE_install_{VERSION}-release.tar.gz"
ARTIFACTS = (PYTHON_ENV, JDK, MYSQL, FATE_INSTALL)

#: Filler goes into these trees (artifact-internal tree, directory inside it).
FILLER_TARGETS = ("jdk", "mysql", "eggroll", "python", "fateboard")

KIT_PACKAGES = ("fate_sample_kit", "fate_sample_mysql")


def _kit() -> Tree:
    return payload.tree("kit")


def _wheelhouse(fill: Dict[str, Tree] | None = None) -> Tree:
    kit = _kit()
    name_kit, data_kit = wheel(
        "fate-sample-kit", VERSION,
        {p: e for p, e in kit.items() if p.startswith("fate_sample_kit/")},
        summary="FATE sample release: helpers of the stand-in services",
        requires=[f"fate-sample-mysql=={VERSION}"])
    name_mysql, data_mysql = wheel(
        "fate-sample-mysql", VERSION,
        {p: e for p, e in kit.items() if p.startswith("fate_sample_mysql/")},
        summary="FATE sample release: pure-Python MySQL client (stands in for PyMySQL)")
    requirements = f"fate-sample-kit=={VERSION}\nfate-sample-mysql=={VERSION}\n"
    bulk = (fill or {}).get("wheels", {})
    if bulk:
        requirements += bulk_requirements(bulk)
    return {name_kit: file(data_kit), name_mysql: file(data_mysql),
            "requirements.txt": file(requirements), **bulk}


def _miniconda(fill: Dict[str, Tree], spool: Path) -> Path:
    body: Tree = {
        "LICENSE.txt": file("FATE sample Miniconda: a venv of the host's python3 made by "
                            "fate-pkg's sample generator; not Anaconda software.\n"),
        "conda-meta/history": file("==> FATE sample release: python 3 venv <==\n"),
        **fill.get("miniconda", {}),
    }
    dest = spool / MINICONDA
    with open(dest, "wb") as out:
        out.write(payload.text("python-env/Miniconda3-installer.sh"))
        write_tar_gz(body, out, _level(fill))
    return dest


def python_env(fill: Dict[str, Tree], dest: Path, spool: Path) -> None:
    vname, vdata = wheel("virtualenv", VIRTUALENV_VERSION,
                         {f"virtualenv/{p}": e for p, e in payload.tree("python-env/virtualenv")
                          .items()},
                         summary="FATE sample release: venv maker with virtualenv's command line",
                         console_scripts={"virtualenv": "virtualenv.__main__:run"},
                         tag="py2.py3-none-any")
    pip_bundle = tar_gz_file(prefixed(_wheelhouse(fill), PIP_BUNDLE),
                             spool / f"{PIP_BUNDLE}.tar.gz", _level(fill))
    tree: Tree = {MINICONDA: Entry(path=_miniconda(fill, spool), mode=0o755),
                  vname: file(vdata), f"{PIP_BUNDLE}.tar.gz": Entry(path=pip_bundle)}
    tar_gz_file(prefixed(tree, "python-env"), dest, _level(fill))


def jdk(fill: Dict[str, Tree], dest: Path, spool: Path) -> None:
    tree = dict(payload.tree("jdk"))
    tree["release"] = file('JAVA_VERSION="1.8.0_192"\nOS_NAME="Linux"\nOS_ARCH="amd64"\n'
                           'IMPLEMENTOR="FATE sample stand-in (fate-pkg)"\n')
    tree.update(fill.get("jdk", {}))
    tar_gz_file(prefixed(tree, JDK_TOP), dest, _level(fill))


def mysql(fill: Dict[str, Tree], dest: Path, spool: Path) -> None:
    home = dict(payload.tree(f"mysql/{MYSQL_TOP}"))
    home.update(fill.get("mysql", {}))
    inner = tar_gz_file(prefixed(home, MYSQL_TOP), spool / f"{MYSQL_TOP}.tar.gz", _level(fill))
    tree: Tree = {f"{MYSQL_TOP}.tar.gz": Entry(path=inner)}
    for name in ("my.cnf", "service.sh", "create-eggroll-meta-tables.sql"):
        tree[name] = file(payload.text(f"mysql/{name}"), executable=name.endswith(".sh"))
    tar_gz_file(prefixed(tree, "mysql"), dest, _level(fill))


def _jar(classes: Tree, with_kit: bool, manifest: str | None = None) -> bytes:
    members = dict(classes)
    if with_kit:
        members.update(_kit())
    members.setdefault("META-INF/MANIFEST.MF", file(
        manifest or "Manifest-Version: 1.0\nCreated-By: fate-pkg sample generator\n\n"))
    return zip_bytes(members)


def eggroll_tree(fill: Dict[str, Tree]) -> Tree:
    tree = dict(payload.tree("eggroll/tree"))
    for jar in ("eggroll-core", "eggroll-cluster-manager", "eggroll-node-manager",
                "eggroll-roll-site"):
        name = f"{jar}-{EGGROLL_VERSION}"
        tree[f"lib/{name}.jar"] = file(_jar(payload.tree(f"eggroll/jars/{name}"),
                                            with_kit=jar == "eggroll-core"))
    tree["deploy/create-eggroll-meta-tables.sql"] = file(
        payload.text("mysql/create-eggroll-meta-tables.sql"))
    tree["data"] = Entry(mode=0o755, is_dir=True)
    tree.update(fill.get("eggroll", {}))
    return tree


def fate_tree(fill: Dict[str, Tree]) -> Tree:
    tree = dict(payload.tree("fate/python"))
    tree["requirements.txt"] = _wheelhouse(fill)["requirements.txt"]
    tree.update(fill.get("python", {}))
    return tree


def fateboard_tree(fill: Dict[str, Tree]) -> Tree:
    tree = dict(payload.tree("fateboard/tree"))
    jar = f"fateboard-{FATEBOARD_VERSION}.jar"
    tree[jar] = file(_jar(payload.tree("fateboard/jar"), with_kit=True))
    tree["fateboard.jar"] = Entry(link=jar)
    tree.update(fill.get("fateboard", {}))
    return tree


def fate_install(fill: Dict[str, Tree], dest: Path, spool: Path) -> None:
    top = f"FATE_install_{VERSION}-release"
    level = _level(fill)
    tree: Tree = {}
    for name, members in (("python", fate_tree(fill)), ("eggroll", eggroll_tree(fill)),
                          ("fateboard", fateboard_tree(fill))):
        inner = tar_gz_file(prefixed(members, name), spool / f"{name}.tar.gz", level)
        tree[f"{name}.tar.gz"] = Entry(path=inner)
    tar_gz_file(prefixed(tree, top), dest, level)


def _level(fill: Dict[str, Tree]) -> int:
    """gzip level: the sample's 6 (its pinned sha256), 1 for the GBs of the full profile."""
    return 1 if fill.get("wheels") else 6


def filler_trees(extra_bytes: int) -> Dict[str, Tree]:
    """Filler files spread round-robin over the component trees."""
    trees: Dict[str, Tree] = {name: {} for name in FILLER_TARGETS}
    for index, (kind, size) in enumerate(filler.plan(extra_bytes)):
        target = FILLER_TARGETS[index % len(FILLER_TARGETS)]
        trees[target][filler.file_name(kind, index)] = Entry(
            make=partial(filler.content, kind, size, index))
    return trees


#: Each writes its artifact into ``dest``; inner archives are spooled as files in ``spool``.
BUILDERS: Dict[str, Callable[[Dict[str, Tree], Path, Path], None]] = {
    PYTHON_ENV: python_env, JDK: jdk, MYSQL: mysql, FATE_INSTALL: fate_install,
}

"""Install a wheelhouse's pinned wheels into a venv ourselves, the way pip 10/18 lay them out.

``pip install -r requirements.txt --no-index --find-links WHEELS`` (pip 18.1, the venv's)
was most of the staging time of the real-size release: at 70k files it unzips every wheel
into a temporary directory, copies each file again into site-packages, and starts one
process whose per-file work is pure Python. A wheel is a zip with a fixed layout (PEP 427):
this module writes each member once, straight to its place, and produces the same tree
and the same RECORD as those pips (``tests/assemble/test_wheels.py`` installs the same
wheels both ways and compares every byte after relocation):

- ``X.dist-info/`` and the wheel's root go to site-packages (purelib and platlib are one
  directory in a venv); ``X.data/{purelib,platlib,scripts,headers,data}`` go to
  site-packages, ``bin``, ``include/site/pythonX.Y/<name>`` and the venv root;
- file modes: 0666 & ~umask, and 0777 & ~umask | 0111 when the zip marks the file
  executable; a script from ``.data/scripts`` that starts with ``#!python`` gets the venv's
  interpreter;
- console and GUI entry points become pip's wrapper scripts (distlib's shebang rules);
  a ``.data/scripts`` file that is setuptools' wrapper of an entry point is left out;
- ``INSTALLER`` holds ``pip``; RECORD lists every installed file sorted, the wheel's hash
  for what was copied as is and a new one for what was written or changed.

What is installed is what pip would resolve from pins alone: each ``name==version`` line
names one wheel of the wheelhouse whose tags this Python can load; a ``Requires-Dist`` that
no pin provides is taken from the wheelhouse as pip would, and one nothing provides is
refused with its line. Anything else in requirements.txt is refused with ``file:line``.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import shutil
import stat
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from email.parser import HeaderParser
from multiprocessing import get_context
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from packager.errors import UserError

#: Platforms a CentOS 7 x86_64 CPython accepts (glibc 2.17: manylinux2014 at most).
PLATFORMS = ("manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64",
             "linux_x86_64")
_PIN = re.compile(r"^\s*(?P<req>[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?\s*==\s*[^\s;#]+)"
                  r"\s*(?:#.*)?$")
_WRAPPER = """# -*- coding: utf-8 -*-
import re
import sys

from %(module)s import %(import_name)s

if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])
    sys.exit(%(func)s())
"""
_ENTRY = re.compile(r"^(?P<module>[\w.]+)\s*:\s*(?P<func>[\w.]+)\s*(?:\[[^\]]*\])?$")
_CHUNK = 1 << 20
#: Bytes of wheels from which they are installed by several processes: below it, starting
#: them (a spawned interpreter each, ~0.2 s) costs more than it saves.
PARALLEL_FROM = 64 << 20


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str  # canonical
    version: Version
    tags: frozenset[Tag]


def target_tags(python: tuple[int, int]) -> set[Tag]:
    """Every tag a CPython ``python`` on CentOS 7 x86_64 loads (what pip would accept)."""
    abi = f"cp{python[0]}{python[1]}" + ("m" if python < (3, 8) else "")
    return set(cpython_tags(python, [abi, "abi3", "none"], list(PLATFORMS))) | \
        set(compatible_tags(python, f"cp{python[0]}{python[1]}", list(PLATFORMS)))


def wheelhouse(directory: Path) -> dict[str, list[Wheel]]:
    """The wheels of ``directory`` by canonical name (file names per PEP 427)."""
    out: dict[str, list[Wheel]] = {}
    for path in sorted(directory.glob("*.whl")):
        parts = path.name[:-4].split("-")
        if len(parts) not in (5, 6):
            raise UserError(f"{path}: not a wheel file name (name-version[-build]-tags.whl)")
        try:
            version = Version(parts[1])
        except InvalidVersion:
            raise UserError(f"{path}: version {parts[1]!r} is not a PEP 440 version") from None
        tags = frozenset(Tag(i, a, p) for i in parts[-3].split(".") for a in parts[-2].split(".")
                         for p in parts[-1].split("."))
        out.setdefault(canonicalize_name(parts[0]), []).append(
            Wheel(path, canonicalize_name(parts[0]), version, tags))
    return out


def resolve(requirements: Path, house: dict[str, list[Wheel]], python: tuple[int, int],
            full_version: str = "") -> list[Wheel]:
    """The wheels to install: the pins, then what their ``Requires-Dist`` needs; each one's
    ``Requires-Python`` must admit ``full_version`` (the target interpreter's X.Y.Z, else
    X.Y.0), as pip checks it: a wheel tagged ``py3-none-any`` can still need a newer Python,
    and on the host that fails only at import time."""
    tags = target_tags(python)
    full_version = full_version or f"{python[0]}.{python[1]}.0"
    problems: list[str] = []
    chosen: dict[str, Wheel] = {}
    extras: dict[str, set[str]] = {}  # extras asked for, whose Requires-Dist count too
    for lineno, line in enumerate(requirements.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _PIN.match(line)
        if not m:
            problems.append(f"{requirements}:{lineno}: {line.strip()!r}: only 'name==version' "
                            "lines are installed offline from the wheelhouse")
            continue
        req = Requirement(m.group("req"))
        wheel = _pick(req, house, tags)
        if wheel is None:
            problems.append(f"{requirements}:{lineno}: {req}: no wheel of it in "
                            f"{requirements.parent} loads on CPython {python[0]}.{python[1]} "
                            "(tags cp36/abi3/py3 on manylinux2014/2010/1 x86_64 or any)")
        else:
            chosen[wheel.name] = wheel
            extras[wheel.name] = set(req.extras)
    env = {"python_version": f"{python[0]}.{python[1]}",
           "python_full_version": full_version, "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
           "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    queue = list(chosen.values())
    while queue:
        wheel = queue.pop(0)
        for text in _metadata(wheel).get_all("Requires-Dist") or []:
            try:
                dep = Requirement(text)
            except InvalidRequirement:
                problems.append(f"{wheel.path.name}: Requires-Dist {text!r} is not a requirement")
                continue
            if dep.marker and not any(dep.marker.evaluate({**env, "extra": x})
                                      for x in {"", *extras.get(wheel.name, ())}):
                continue
            name = canonicalize_name(dep.name)
            if name in chosen:
                continue  # pip 10/18 keep a pinned version that conflicts (they only warn)
            found = _pick(dep, house, tags)
            if found is None:
                problems.append(f"{wheel.path.name}: needs {dep}, which no pin and no wheel "
                                f"of {requirements.parent} provides")
                continue
            chosen[name] = found
            extras[name] = set(dep.extras)
            queue.append(found)
    for wheel in chosen.values():
        needs = (_metadata(wheel).get("Requires-Python") or "").strip()
        try:
            fits = not needs or SpecifierSet(needs).contains(full_version, prereleases=True)
        except InvalidSpecifier:
            problems.append(f"{wheel.path.name}: Requires-Python {needs!r} is not a version "
                            "specifier")
            continue
        if not fits:
            problems.append(f"{wheel.path.name}: Requires-Python {needs}, and the release's "
                            f"Python is {full_version}")
    if problems:
        raise UserError("python env: requirements cannot be installed offline:\n" +
                        "\n".join("  " + p for p in problems))
    return [chosen[n] for n in sorted(chosen)]


def _pick(req: Requirement, house: dict[str, list[Wheel]], tags: set[Tag]) -> Wheel | None:
    fits = [w for w in house.get(canonicalize_name(req.name), [])
            if w.tags & tags and req.specifier.contains(w.version, prereleases=True)]
    return max(fits, key=lambda w: w.version, default=None)


def _metadata(wheel: Wheel):
    with zipfile.ZipFile(wheel.path) as zf:
        info = _dist_info(zf, wheel.path)
        return HeaderParser().parsestr(zf.read(f"{info}/METADATA").decode("utf-8"))


def _dist_info(zf: zipfile.ZipFile, path: Path) -> str:
    tops = {n.split("/", 1)[0] for n in zf.namelist()}
    found = [t for t in tops if t.endswith(".dist-info")]
    if len(found) != 1:
        raise UserError(f"{path}: a wheel has exactly one .dist-info directory "
                        f"(found {len(found)})")
    return found[0]


def install(wheels: list[Wheel], venv: Path, jobs: int | None = None,
            parallel_from: int = PARALLEL_FROM) -> set[str]:
    """Install ``wheels`` into ``venv`` (made by venv/virtualenv). Returns the files copied
    from the wheels unchanged (normalised absolute paths): they cannot hold the staging
    prefix, so relocation need not read them (3.5 GiB at the real size).

    Wheels that write no common path are independent: with more than ``parallel_from``
    bytes of wheels they are installed by ``jobs`` processes (default: every core). The
    per-member work is Python holding the GIL (scale 1: 44 s of the build's one thread, for
    70k members). Wheels that share a path (two wheels shipping one file, one script name)
    go to the same process in the given order, so the later one still wins, as with pip;
    the tree is the same whatever the number of processes (tested)."""
    libs = sorted(venv.glob("lib/python*/site-packages"))
    if len(libs) != 1:
        raise UserError(f"{venv}: no single lib/pythonX.Y/site-packages")
    site = libs[0]
    jobs = jobs or os.cpu_count() or 1
    groups = _independent_groups(wheels, venv, site)
    size = {w.path: w.path.stat().st_size for w in wheels}
    if jobs < 2 or len(groups) < 2 or sum(size.values()) < parallel_from:
        return _install_group(wheels, venv, site)
    # the biggest first, so no process starts a long group when the others are done
    groups.sort(key=lambda g: -sum(size[w.path] for w in g))
    verbatim: set[str] = set()
    # spawn, not fork: the build may hold threads (progress, writers) when it stages
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        for done in pool.map(_install_group, groups, [venv] * len(groups),
                             [site] * len(groups)):
            verbatim |= done
    return verbatim


def _install_group(wheels: list[Wheel], venv: Path, site: Path) -> set[str]:
    python = site.parent.name[len("python"):]
    exe = os.fsencode(venv / "bin" / "python")
    verbatim: set[str] = set()
    for w in wheels:
        _install_one(w, venv, site, python, exe, verbatim)
    return verbatim


def _independent_groups(wheels: list[Wheel], venv: Path, site: Path) -> list[list[Wheel]]:
    """``wheels`` cut into groups no two of which write a common path (each group in the
    given order). The paths are over-approximated (every member, every entry point's
    script), which can only merge groups, never split two wheels that collide."""
    owner: dict[str, int] = {}
    parent = list(range(len(wheels)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, wheel in enumerate(wheels):
        for path in _claimed_paths(wheel, venv, site):
            j = owner.setdefault(path, i)
            if j != i:
                a, b = root(i), root(j)
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[Wheel]] = {}
    for i, wheel in enumerate(wheels):
        groups.setdefault(root(i), []).append(wheel)
    return list(groups.values())


def _claimed_paths(wheel: Wheel, venv: Path, site: Path) -> set[str]:
    """Every path (relative to ``venv``) that installing ``wheel`` may write."""
    lib = os.path.relpath(site, venv)
    with zipfile.ZipFile(wheel.path) as zf:
        info = _dist_info(zf, wheel.path)
        data_dir = info[:-len(".dist-info")] + ".data"
        names = zf.namelist()
        console, gui = _entry_points(zf.read(f"{info}/entry_points.txt").decode("utf-8")
                                     if f"{info}/entry_points.txt" in names else "")
    claimed = {f"bin/{n}" for n in [*console, *gui]}
    for name in names:
        top, _, rest = name.partition("/")
        if top != data_dir:
            claimed.add(os.path.normpath(f"{lib}/{name}"))
            continue
        kind, _, inner = rest.partition("/")
        base = {"purelib": lib, "platlib": lib, "scripts": "bin", "data": "."}.get(kind)
        # headers go below include/site/pythonX.Y/<the wheel's own name>: never shared
        if base is not None and inner:
            claimed.add(os.path.normpath(f"{base}/{inner}"))
    return claimed


def _install_one(wheel: Wheel, venv: Path, site: Path, python: str, exe: bytes,
                 verbatim: set[str]) -> None:
    with zipfile.ZipFile(wheel.path) as zf:
        info = _dist_info(zf, wheel.path)
        data_dir = info[:-len(".dist-info")] + ".data"
        names = set(zf.namelist())
        console, gui = _entry_points(zf.read(f"{info}/entry_points.txt").decode("utf-8")
                                     if f"{info}/entry_points.txt" in names else "")
        dist = HeaderParser().parsestr(zf.read(f"{info}/METADATA").decode("utf-8"))["Name"]
        where = {"purelib": site, "platlib": site, "scripts": venv / "bin",
                 "headers": venv / "include" / "site" / f"python{python}" / dist,
                 "data": venv}
        installed: dict[str, str] = {}  # wheel path -> RECORD path (relative to site)
        rehashed: dict[str, tuple[str, str]] = {}  # RECORD path -> (hash, size)
        umask = _umask()
        made: set[str] = set()
        for member in zf.infolist():
            name = member.filename
            if name.endswith("/"):
                continue
            top, _, rest = name.partition("/")
            if top == data_dir:
                kind, _, inner = rest.partition("/")
                if kind not in where or not inner:
                    raise UserError(f"{wheel.path}: {name}: no such wheel data directory")
                if kind == "scripts" and _is_wrapper(inner, console, gui):
                    continue  # setuptools' own wrapper: pip writes its own
                dest = where[kind] / inner
            else:
                dest = site / name
            _check_inside(dest, venv, wheel.path, name)
            parent = os.fspath(dest.parent)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            executable = stat.S_ISREG(member.external_attr >> 16) and \
                (member.external_attr >> 16) & 0o111
            rel = os.path.normpath(os.path.relpath(dest, site))
            installed[name] = rel
            with zf.open(member) as src, open(dest, "wb") as out:
                first = src.read(_CHUNK)
                if top == data_dir and kind == "scripts" and first.startswith(b"#!python"):
                    # pip's fix_script: the wheel's "#!python" names the venv's interpreter
                    first = b"#!" + exe + os.linesep.encode() + first.split(b"\n", 1)[1] \
                        if b"\n" in first else b"#!" + exe + os.linesep.encode()
                    digest = hashlib.sha256(first)
                    size = len(first)
                    out.write(first)
                    for chunk in iter(lambda: src.read(_CHUNK), b""):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                    rehashed[rel] = (_record_hash(digest.digest()), str(size))
                else:
                    out.write(first)
                    shutil.copyfileobj(src, out, _CHUNK)
                    verbatim.add(os.path.normpath(dest))
            if executable:
                os.chmod(dest, (0o777 & ~umask) | 0o111)
        generated = [*(_wrapper(venv / "bin" / n, e, exe, umask) for n, e in console.items()),
                     *(_wrapper(venv / "bin" / n, e, exe, umask) for n, e in gui.items())]
        installer = site / info / "INSTALLER"
        installer.write_bytes(b"pip\n")
        generated.append(installer)
        for path in generated:
            data = path.read_bytes()
            rehashed[os.path.normpath(os.path.relpath(path, site))] = (
                _record_hash(hashlib.sha256(data).digest()), str(len(data)))
        rows = []
        for row in csv.reader(io.StringIO(zf.read(f"{info}/RECORD").decode("utf-8"))):
            if not row:
                continue
            path = installed.pop(row[0], row[0])
            row = [path, *rehashed.pop(path)] if path in rehashed else [path, *row[1:]]
            rows.append(tuple(row))
        rows += [(p, h, s) for p, (h, s) in rehashed.items()]
        rows += [(p, "", "") for p in installed.values()]
    with open(site / info / "RECORD", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(sorted(rows))


def _entry_points(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """console_scripts and gui_scripts of entry_points.txt (INI, stripped as pip strips it)."""
    groups: dict[str, dict[str, str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = groups.setdefault(line[1:-1].strip(), {})
        elif current is not None and "=" in line:
            name, _, value = line.partition("=")
            current[name.strip()] = value.strip()
    return groups.get("console_scripts", {}), groups.get("gui_scripts", {})


def _is_wrapper(name: str, console: dict[str, str], gui: dict[str, str]) -> bool:
    """pip's test for setuptools' wrappers of an entry point (EP, EP.exe, EP-script.py)."""
    lower = name.lower()
    stem = name[:-4] if lower.endswith((".exe", ".pya")) else \
        name[:-10] if lower.endswith("-script.py") else name
    return stem in console or stem in gui


def _wrapper(path: Path, entry: str, exe: bytes, umask: int) -> Path:
    m = _ENTRY.match(entry)
    if not m:
        raise UserError(f"{path.name}: entry point {entry!r} is not 'module:function'")
    func = m.group("func")
    text = _WRAPPER % {"module": m.group("module"), "import_name": func.split(".")[0],
                       "func": func}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_shebang(exe) + os.linesep.encode() + text.encode("utf-8"))  # distlib's
    os.chmod(path, ((0o666 & ~umask) | 0o555) & 0o7777)
    return path


def _shebang(exe: bytes) -> bytes:
    """distlib's rule (pip's ScriptMaker): a long or spaced interpreter path goes through sh."""
    if b" " not in exe and len(exe) + 3 <= 127:
        return b"#!" + exe + b"\n"
    return b"#!/bin/sh\n'''exec' " + exe + b' "$0" "$@"\n' + b"' '''\n"


def _check_inside(dest: Path, venv: Path, wheel: Path, name: str) -> None:
    if ".." in Path(name).parts or name.startswith("/"):
        raise UserError(f"{wheel}: member {name!r} would be written outside the venv")
    if not os.path.normpath(dest).startswith(os.fspath(venv) + os.sep):
        raise UserError(f"{wheel}: member {name!r} would be written outside the venv")


def _record_hash(raw: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""Read one package described in YAML (the ``fate-pkg rpm`` input) into a :class:`Package`.

Every problem is reported as ``file: key.path: what is wrong``; all problems at once.
Relative ``src`` paths are resolved against the YAML file's directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packager.onhost import yamlfile
from packager.rpm import tags as t
from packager.rpm.compress import KINDS, Compression
from packager.rpm.filetable import FileTable
from packager.rpm.model import QUALIFIERS, Dependency, FileEntry, Package, Script
from packager.rpm.tree import TreeError, entries_from_tree

_TOP = {"name", "version", "release", "epoch", "arch", "summary", "description", "license",
        "group", "url", "vendor", "packager", "compression", "defaults", "files", "requires",
        "provides", "conflicts", "obsoletes", "scripts",
        *(f"requires({q})" for q in QUALIFIERS)}
_FILE_KEYS = {"src", "dst", "mode", "owner", "group", "mtime", "config", "doc", "ghost",
              "missingok", "dir", "symlink", "tree", "file_mode", "dir_mode", "own_root",
              "exclude"}


class SpecError(ValueError):
    pass


class _Errors:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.items: list[str] = []

    def add(self, where: str, msg: str) -> None:
        self.items.append(f"{self.origin}: {where}: {msg}")


def load_spec(path: Path) -> tuple[Package, Compression | None]:
    try:
        data = yamlfile.read(str(path))
    except yamlfile.YamlFileError as exc:
        raise SpecError(str(exc)) from None
    return package_from_dict(data, path.parent, str(path))


def package_from_dict(data: Any, base: Path, origin: str) -> tuple[Package, Compression | None]:
    err = _Errors(origin)
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: the top level must be a mapping")
    for key in data:
        if key not in _TOP:
            err.add(str(key), f"unknown key (known: {', '.join(sorted(_TOP))})")
    for key in ("name", "version", "release", "summary"):
        if data.get(key) in (None, ""):
            err.add(key, "is required")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        err.add("defaults", "must be a mapping")
        defaults = {}
    files = _files(data.get("files") or [], base, defaults, err)
    deps = {k: _deps(data.get(k) or [], k, 0, err)
            for k in ("requires", "provides", "conflicts", "obsoletes")}
    for q, flag in QUALIFIERS.items():
        deps["requires"] += _deps(data.get(f"requires({q})") or [], f"requires({q})", flag, err)
    scripts = _scripts(data.get("scripts") or {}, base, err)
    comp = _compression(data.get("compression"), err)
    epoch = data.get("epoch")
    if epoch is not None and not isinstance(epoch, int):
        err.add("epoch", f"{epoch!r} is not a whole number")
    if err.items:
        raise SpecError("\n".join(err.items))
    pkg = Package(
        name=str(data["name"]), version=str(data["version"]), release=str(data["release"]),
        epoch=epoch, summary=str(data["summary"]), arch=str(data.get("arch", "x86_64")),
        description=str(data.get("description") or ""),
        license=str(data.get("license", "Apache-2.0")),
        group=str(data.get("group", "Unspecified")), url=str(data.get("url") or ""),
        vendor=str(data.get("vendor") or ""), packager=str(data.get("packager") or ""),
        files=files, scripts=scripts, **deps,
    )
    return pkg, comp


def _mode(value: Any, where: str, err: _Errors) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and 0 <= value <= 0o7777:
        return value
    if isinstance(value, str):
        try:
            m = int(value, 8)
            if 0 <= m <= 0o7777:
                return m
        except ValueError:
            pass
    err.add(where, f"{value!r} is not an octal mode like 0755")
    return None


def _files(items: Any, base: Path, defaults: dict, err: _Errors) -> FileTable:
    out = FileTable()
    if not isinstance(items, list):
        err.add("files", "must be a list")
        return out
    for i, item in enumerate(items):
        where = f"files[{i}]"
        if not isinstance(item, dict):
            err.add(where, "must be a mapping with at least 'dst'")
            continue
        for key in item:
            if key not in _FILE_KEYS:
                err.add(f"{where}.{key}", f"unknown key (known: {', '.join(sorted(_FILE_KEYS))})")
        dst = item.get("dst")
        if not isinstance(dst, str) or not dst.startswith("/"):
            err.add(f"{where}.dst", f"{dst!r} must be an absolute path on the target")
            continue
        owner = str(item.get("owner", defaults.get("owner", "root")))
        group = str(item.get("group", defaults.get("group", "root")))
        mode = _mode(item.get("mode"), f"{where}.mode", err)
        flags = 0
        config = item.get("config")
        if config:
            flags |= t.FILE_CONFIG
            if config == "noreplace":
                flags |= t.FILE_NOREPLACE
            elif config is not True:
                err.add(f"{where}.config", f"{config!r}: use true or noreplace")
        if item.get("doc"):
            flags |= t.FILE_DOC
        if item.get("missingok"):
            flags |= t.FILE_MISSINGOK
        if item.get("ghost"):
            flags |= t.FILE_GHOST
        src = item.get("src")
        src_path = (base / src) if isinstance(src, str) else None
        mtime = item.get("mtime")
        if item.get("tree"):
            if src_path is None:
                err.add(f"{where}.src", "a tree needs a source directory")
                continue
            try:
                out += entries_from_tree(  # columns into columns: no FileEntry per file
                    src_path, dst.rstrip("/") or "/", owner=owner, group=group,
                    file_mode=_mode(item.get("file_mode"), f"{where}.file_mode", err),
                    dir_mode=_mode(item.get("dir_mode"), f"{where}.dir_mode", err),
                    own_root=bool(item.get("own_root", True)), flags=flags,
                    exclude=[str(x) for x in item.get("exclude") or []])
            except (TreeError, OSError) as exc:
                err.add(f"{where}.src", str(exc))
        elif item.get("dir"):
            out.append(FileEntry(dst, "dir", mode=mode, owner=owner, group=group, flags=flags,
                                 mtime=mtime))
        elif item.get("symlink") is not None:
            out.append(FileEntry(dst, "symlink", link_target=str(item["symlink"]), owner=owner,
                                 group=group, flags=flags, mtime=mtime))
        else:
            if src_path is None and not flags & t.FILE_GHOST:
                err.add(f"{where}.src", "is required for a file (or use dir/symlink/ghost)")
                continue
            if src_path is not None and not src_path.is_file():
                err.add(f"{where}.src", f"{src_path} does not exist or is not a file")
                continue
            out.append(FileEntry(dst, "file", source=src_path, mode=mode, owner=owner,
                                 group=group, flags=flags, mtime=mtime))
    return out


def _deps(items: Any, key: str, extra: int, err: _Errors) -> list[Dependency]:
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        err.add(key, "must be a list of 'name [OP version]' strings")
        return []
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Dependency.parse(str(item), extra))
        except ValueError as exc:
            err.add(f"{key}[{i}]", str(exc))
    return out


def _scripts(items: Any, base: Path, err: _Errors) -> dict[str, Script]:
    if not isinstance(items, dict):
        err.add("scripts", "must be a mapping of scriptlet name to body")
        return {}
    out = {}
    for slot, value in items.items():
        where = f"scripts.{slot}"
        if slot not in t.SCRIPTLETS:
            err.add(where, f"unknown scriptlet (one of {', '.join(t.SCRIPTLETS)})")
            continue
        interpreter = "/bin/sh"
        if isinstance(value, dict):
            interpreter = str(value.get("interpreter", interpreter))
            if "file" in value:
                try:
                    body = (base / str(value["file"])).read_text()
                except OSError as exc:
                    err.add(f"{where}.file", f"cannot read: {exc.strerror}")
                    continue
            else:
                body = value.get("body")
        else:
            body = value
        if not isinstance(body, str) or not body.strip():
            err.add(where, "needs a non-empty body (a string, or body:/file:)")
            continue
        out[slot] = Script(body, interpreter)
    return out


def _compression(value: Any, err: _Errors) -> Compression | None:
    if value is None:
        return None
    try:
        return parse_compression(value)
    except ValueError as exc:
        err.add("compression", str(exc))
        return None


def parse_compression(value: Any) -> Compression:
    """``xz``, ``gzip:9``, or ``{type: xz, level: 6}``."""
    if isinstance(value, dict):
        kind, level = value.get("type"), value.get("level")
    else:
        kind, _, lvl = str(value).partition(":")
        level = int(lvl) if lvl.isdigit() else (None if not lvl else lvl)
    if kind not in KINDS:
        raise ValueError(f"{kind!r}: rpm 4.11 reads only gzip or xz payloads")
    if level is not None and not isinstance(level, int):
        raise ValueError(f"level {level!r} is not a number")
    comp = Compression(str(kind), level)
    comp.validate()
    return comp

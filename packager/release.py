"""Release manifests (``specs/releases/<release>.yaml``): what a FATE release is made of.

A manifest lists every upstream artifact with its URL, size and sha256 (format in
``docs/contracts.md``). Fetch, the cache and the build all work from the typed objects
loaded here, so a typo in a manifest is caught once, with the file, line and key named,
instead of surfacing as a confusing download or build failure later.

Each value keeps the position of its text in the file (``Span``), so ``fate-pkg fetch
--record`` can rewrite just those characters and leave comments and layout alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from packager import resources
from packager.errors import UserError
from packager.onhost import yamlfile

#: Components an artifact may belong to (contracts.md).
COMPONENTS = ("python", "java", "mysql", "eggroll", "fate", "fateboard", "tools")

#: Where the manifests live in the source tree.
SPECS_DIR = resources.specs() / "releases"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~-]*$")
_ARTIFACT_KEYS = ("name", "url", "size", "sha256", "component", "contains")
#: ``includes``: other manifests fetched and built along (e.g. the target tools' libraries);
#: ``os_requires``: CentOS 7 packages each RPM needs with this release's binaries;
#: ``source_date_epoch``: the release's date, the default build time (reproducible RPMs);
#: ``generated_by``: the module that writes a sample release (nothing to download).
_TOP_KEYS = ("release", "version", "artifacts", "includes", "os_requires",
             "source_date_epoch", "generated_by")


@dataclass(frozen=True)
class Span:
    """Where a scalar value's text sits in the manifest (character offsets, 1-based line)."""

    start: int
    end: int
    line: int


@dataclass(frozen=True)
class Artifact:
    """One upstream file of a release, as the manifest pins it."""

    release: str
    name: str
    url: str
    size: int | None
    sha256: str | None
    component: str
    #: Positions of the ``size`` / ``sha256`` values (None when the key is absent), and
    #: of the last key of the artifact's mapping (where a missing key gets inserted).
    spans: dict[str, Span] = field(default_factory=dict, compare=False, repr=False)
    line: int = field(default=0, compare=False)

    @property
    def pinned(self) -> bool:
        """True when the manifest says which bytes this artifact must be."""
        return self.sha256 is not None

    def url_for(self, mirror: str | None) -> str:
        """The download URL; ``--mirror URL`` replaces everything before the file name."""
        if mirror:
            return mirror.rstrip("/") + "/" + self.name
        return self.url


@dataclass(frozen=True)
class Release:
    """A parsed release manifest."""

    release: str
    version: str
    artifacts: tuple[Artifact, ...]
    path: Path
    includes: tuple[str, ...] = ()
    os_requires: dict = field(default_factory=dict, compare=False)
    source_date_epoch: int | None = None
    generated_by: str | None = None

    def artifact(self, name: str) -> Artifact:
        for art in self.artifacts:
            if art.name == name:
                return art
        raise UserError(f"{self.path}: release {self.release} has no artifact named {name!r}")


def manifest_path(release: str, specs_dir: Path | None = None) -> Path:
    """Resolve ``--release``: an id under ``specs/releases/`` or a path to a YAML file."""
    if release.endswith((".yaml", ".yml")) or "/" in release:
        path = Path(release)
    else:
        if not _RELEASE_ID.match(release):
            raise UserError(f"--release {release!r}: not a release id (letters, digits, ._-)")
        path = (specs_dir or SPECS_DIR) / f"{release}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (specs_dir or SPECS_DIR).glob("*.yaml"))
        hint = f" (known: {', '.join(known)})" if known else ""
        raise UserError(f"release manifest {path} not found{hint}")
    return path


def load_release(release: str | Path, specs_dir: Path | None = None) -> Release:
    """Load and validate a manifest given by id or path; bad input raises ``UserError``."""
    path = Path(release) if isinstance(release, Path) else manifest_path(release, specs_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    return parse_release(text, path)


def parse_release(text: str, path: Path) -> Release:
    """Parse manifest text; ``path`` is only used in messages and kept on the result."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        line, problem = yamlfile.problem(exc)
        raise UserError(str(yamlfile.YamlFileError(str(path), line, f"not valid YAML: {problem}"))
                        ) from None
    if not isinstance(root, yaml.MappingNode):
        raise UserError(f"{path}: a release manifest must be a mapping with {', '.join(_TOP_KEYS)}")
    top = _mapping(root, path, "top level", _TOP_KEYS)
    release_id = _string(top, "release", path, "release")
    if not _RELEASE_ID.match(release_id):
        raise _bad(path, top["release"], "release", "letters, digits, '.', '_' and '-' only")
    version = _string(top, "version", path, "version")
    arts_node = top.get("artifacts")
    if not isinstance(arts_node, yaml.SequenceNode) or not arts_node.value:
        raise _bad(path, arts_node or root, "artifacts", "must be a non-empty list")
    artifacts: list[Artifact] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(arts_node.value):
        key = f"artifacts[{index}]"
        if not isinstance(node, yaml.MappingNode):
            raise _bad(path, node, key, "must be a mapping with " + ", ".join(_ARTIFACT_KEYS))
        art = _artifact(node, path, key, release_id)
        if art.name in seen:
            raise _bad(path, node, f"{key}.name",
                       f"{art.name!r} is listed twice (also on line {seen[art.name]})")
        seen[art.name] = art.line
        artifacts.append(art)
    extra = yaml.safe_load(text)
    includes = extra.get("includes") or []
    os_requires = extra.get("os_requires") or {}
    sde = extra.get("source_date_epoch")
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise _bad(path, top["includes"], "includes", "must be a list of release ids")
    if not isinstance(os_requires, dict) or not all(
            isinstance(v, list) and all(isinstance(d, str) for d in v)
            for v in os_requires.values()):
        raise _bad(path, top["os_requires"], "os_requires",
                   "must map package names to lists of dependencies")
    if sde is not None and (isinstance(sde, bool) or not isinstance(sde, int) or sde < 0):
        raise _bad(path, top["source_date_epoch"], "source_date_epoch",
                   "must be seconds since 1970")
    return Release(release_id, version, tuple(artifacts), path, tuple(includes),
                   os_requires, sde, extra.get("generated_by"))


def _artifact(node: yaml.MappingNode, path: Path, key: str, release_id: str) -> Artifact:
    fields = _mapping(node, path, key, _ARTIFACT_KEYS)
    for required in ("name", "url", "component"):
        if required not in fields:
            raise _bad(path, node, f"{key}.{required}", "is missing")
    name = _string(fields, "name", path, f"{key}.name")
    if not _NAME.match(name):
        raise _bad(path, fields["name"], f"{key}.name",
                   f"{name!r} must be a plain file name (letters, digits, ._+~-)")
    url = _string(fields, "url", path, f"{key}.url")
    if not url.startswith(("http://", "https://")):
        raise _bad(path, fields["url"], f"{key}.url", f"{url!r} must start with http:// or https://")
    component = _string(fields, "component", path, f"{key}.component")
    if component not in COMPONENTS:
        raise _bad(path, fields["component"], f"{key}.component",
                   f"{component!r} is not one of {', '.join(COMPONENTS)}")
    size = _optional(fields, "size", path, f"{key}.size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise _bad(path, fields["size"], f"{key}.size", f"{size!r} must be a byte count or null")
    sha = _optional(fields, "sha256", path, f"{key}.sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.match(sha)):
        raise _bad(path, fields["sha256"], f"{key}.sha256",
                   "must be 64 lowercase hex digits or null")
    spans = {k: _span(fields[k]) for k in ("size", "sha256") if k in fields}
    last_value = max(fields.values(), key=lambda n: n.end_mark.index)
    spans["_last"] = _span(last_value)
    first_key = node.value[0][0]
    spans["_key"] = _span(first_key)
    if node.flow_style:
        spans["_flow"] = _span(node)
    return Artifact(release_id, name, url, size, sha, component, spans, node.start_mark.line + 1)


def _mapping(node: yaml.MappingNode, path: Path, where: str,
             allowed: tuple[str, ...]) -> dict[str, yaml.Node]:
    out: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        label = key if where == "top level" else f"{where}.{key}"
        if key not in allowed:
            raise _bad(path, key_node, str(label),
                       f"unknown key (allowed at {where}: {', '.join(allowed)})")
        if key in out:
            raise _bad(path, key_node, str(label), "given twice")
        out[key] = value_node
    return out


def _scalar(node: yaml.Node, path: Path, key: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise _bad(path, node, key, "must be a single value, not a list or mapping")
    return _construct(node)


def _construct(node: yaml.ScalarNode) -> Any:
    """Turn a scalar node into the Python value SafeLoader would give (int, None, str...)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _string(fields: dict[str, yaml.Node], name: str, path: Path, key: str) -> str:
    node = fields.get(name)
    if node is None:
        raise UserError(f"{path}: {key}: is missing")
    value = _scalar(node, path, key)
    if not isinstance(value, str) or not value.strip():
        # versions like 1.4 parse as floats: ask for quotes rather than guessing
        raise _bad(path, node, key, f"{value!r} must be a non-empty string (quote it)")
    return value


def _optional(fields: dict[str, yaml.Node], name: str, path: Path, key: str) -> Any:
    node = fields.get(name)
    return None if node is None else _scalar(node, path, key)


def _span(node: yaml.Node) -> Span:
    return Span(node.start_mark.index, node.end_mark.index, node.start_mark.line + 1)


def _bad(path: Path, node: yaml.Node, key: str, problem: str) -> UserError:
    return UserError(f"{path}:{node.start_mark.line + 1}: {key}: {problem}")


def releases_for(release_id: str) -> list[Release]:
    """The release and every manifest it ``includes`` (e.g. the target tools' libraries)."""
    out: list[Release] = []
    pending = [release_id]
    while pending:
        rid = pending.pop(0)
        if any(r.release == rid for r in out):
            continue
        rel = load_release(rid)
        out.append(rel)
        pending.extend(rel.includes)
    return out

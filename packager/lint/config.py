"""The lint's data (``specs/el7/lint.yaml``): scopes and the bash feature table."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from packager import resources
from packager.errors import UserError
from packager.onhost import yamlfile

LINT_YAML = resources.el7() / "lint.yaml"


@dataclass(frozen=True)
class BashFeature:
    regex: re.Pattern[str]
    since: str
    what: str


@dataclass(frozen=True)
class LintConfig:
    foreign_vendors: tuple[str, ...]
    python_exclude: tuple[str, ...]
    shell_exclude: tuple[str, ...]
    shell_own: tuple[str, ...]
    bash_features: tuple[BashFeature, ...]

    def python_in_scope(self, path: str) -> bool:
        return not _matches(path, self.python_exclude)

    def shell_in_scope(self, path: str) -> bool:
        return not _matches(path, self.shell_exclude)

    def shell_is_own(self, path: str) -> bool:
        return _matches(path, self.shell_own)


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


@lru_cache(maxsize=4)
def load_config(path: Path = LINT_YAML) -> LintConfig:
    try:
        data = yamlfile.read(str(path))
    except yamlfile.YamlFileError as exc:
        raise UserError(f"the lint data: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: the top level must be a mapping")
    features = []
    for i, item in enumerate(data.get("bash_features") or []):
        try:
            features.append(BashFeature(re.compile(item["regex"], re.MULTILINE),
                                        str(item["since"]), str(item["what"])))
        except (KeyError, TypeError, re.error) as exc:
            raise UserError(f"{path}: bash_features[{i}]: {exc}") from None

    def strings(*keys: str) -> tuple[str, ...]:
        node = data
        for key in keys:
            node = (node or {}).get(key) if isinstance(node, dict) else None
        return tuple(str(x) for x in node or ())

    return LintConfig(strings("foreign_vendors"), strings("python", "exclude"),
                      strings("shell", "exclude"), strings("shell_own"), tuple(features))

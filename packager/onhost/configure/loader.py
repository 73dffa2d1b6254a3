"""Load a party YAML keeping the line of every key, so each error can point at it.

PyYAML's ``safe_load`` forgets where values came from; composing the node tree and
building the values ourselves keeps ``start_mark`` for every mapping key and list
item. Duplicate keys, which ``safe_load`` silently collapses (the last one wins and
the operator's first edit is lost), are reported here as errors.
"""

from typing import Any, Dict, List, Tuple

import yaml

from packager.onhost import yamlfile

from .errors import ConfigError

Path = Tuple[Any, ...]


class Document:
    """A loaded YAML document: plain Python data plus the line of each path."""

    def __init__(self, filename: str, data: Any, lines: Dict[Path, int]) -> None:
        self.filename = filename
        self.data = data
        self.lines = lines

    def line(self, path: Path) -> int:
        """Line of ``path``, or of its nearest ancestor that exists in the file."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def where(self, path: Path) -> str:
        """``file:line`` prefix for an error about ``path``."""
        return f"{self.filename}:{self.line(path)}"


def format_path(path: Path) -> str:
    """``('guest', 'rollsite', 'ips', 0)`` -> ``guest.rollsite.ips[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def load_text(text: str, filename: str) -> Document:
    """Parse ``text``; a syntax error becomes one ConfigError line with its position."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: Dict[Path, int] = {}
        errors: List[str] = []
        if node is None:
            raise ConfigError(f"{filename}:1 the file is empty: expected a party such as `guest:`")
        data = _build(loader, node, (), lines, errors, filename)
    except yaml.YAMLError as exc:
        line, what = yamlfile.problem(exc)
        raise ConfigError(f"{filename}:{line or 1} not valid YAML: {what}") from None
    finally:
        loader.dispose()
    if errors:
        raise ConfigError(errors)
    return Document(filename, data, lines)


def load_file(filename: str) -> Document:
    """Read and parse ``filename``; an unreadable file is a ConfigError."""
    try:
        with open(filename, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"{filename}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{filename}: not UTF-8 text") from None
    return load_text(text, filename)


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, lines: Dict[Path, int],
           errors: List[str], filename: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves `<<:` merge keys like safe_load does
        result: Dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            child = path + (key,)
            if not isinstance(key, (str, int)):
                errors.append(f"{filename}:{key_node.start_mark.line + 1} {format_path(path)}: "
                              f"keys must be plain names, not {key!r}")
                continue
            if key in result:
                errors.append(f"{filename}:{key_node.start_mark.line + 1} {format_path(child)}: "
                              f"duplicate key (first at line {lines[child]}); keep one")
                continue
            lines[child] = key_node.start_mark.line + 1
            result[key] = _build(loader, value_node, child, lines, errors, filename)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (index,), lines, errors, filename)
                for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)

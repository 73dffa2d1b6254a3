"""The party schema: load it, export it as JSON Schema, check a document against it.

One YAML file (``party.schema.yaml``) is the single source: editors get it as JSON
Schema, ``party.yaml.example`` is generated from it, and this module checks a loaded
party against the same keywords. Only the subset of JSON Schema the file uses is
implemented (type, properties, required, additionalProperties, enum, minimum, items,
$ref, default, min/maxProperties) plus ``x-format``; every error names the file,
the line, the key path and what to write instead, and all errors are collected.
"""

import copy
import difflib
import ipaddress
import json
import os
import re
from typing import Any, Dict, List, Optional, Tuple

import yaml

from .loader import Document, Path, format_path

SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "party.schema.yaml")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_]{1,64}$")

_cache: Dict[str, Any] = {}


def load_schema() -> Dict[str, Any]:
    """The schema as a dict (parsed once per process)."""
    if "schema" not in _cache:
        with open(SCHEMA_FILE, encoding="utf-8") as handle:
            _cache["schema"] = yaml.safe_load(handle)
    return _cache["schema"]


def json_schema() -> str:
    """The schema as JSON text for editors (the ``x-`` keywords are ignored by them)."""
    return json.dumps(load_schema(), indent=2, sort_keys=False) + "\n"


def resolve(node: Dict[str, Any]) -> Dict[str, Any]:
    """Follow ``$ref`` (local ``#/definitions/...`` only); local keys override."""
    while "$ref" in node:
        target: Any = load_schema()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        merged = dict(target)
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        node = merged
    return node


_TYPE_WORDS = {
    "integer": "an integer", "boolean": "true or false", "string": "a string",
    "array": "a list", "object": "a mapping of keys", "null": "empty",
}


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "null":
        return value is None
    raise ValueError("schema uses unknown type " + kind)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return repr(value)


class Validator:
    """Walks a document with the schema, filling defaults and collecting errors."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.errors: List[str] = []
        self.bad: List[Path] = []  # where each error is, for the checks that run after

    def error(self, path: Path, message: str) -> None:
        self.errors.append(f"{self.doc.where(path)} {format_path(path)}: {message}")
        self.bad.append(tuple(path))

    def check(self) -> Any:
        data = copy.deepcopy(self.doc.data)
        root = load_schema()
        if not isinstance(data, dict):
            self.error((), "expected a mapping with one party key ({})".format(
                ", ".join(sorted(root["properties"]))))
            return data
        if len(data) > root.get("maxProperties", len(data)):
            self.error((), "one party per file: found {}; split them into separate files".format(
                ", ".join(str(k) for k in data)))
        if not data:
            roles = ", ".join(sorted(root["properties"]))
            self.error((), f"empty: expected one of {roles}")
        return self.walk(data, root, ())

    def walk(self, value: Any, node: Dict[str, Any], path: Path) -> Any:
        node = resolve(node)
        kinds = node.get("type")
        if kinds is not None:
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if not any(_type_ok(value, k) for k in kinds):
                want = " or ".join(_TYPE_WORDS[k] for k in kinds if k != "null")
                hint = ""
                if "integer" in kinds and isinstance(value, str) and value.strip().isdigit():
                    hint = "; write a plain number (no quotes, no leading zero)"
                self.error(path, f"{_describe(value)} is not {want}{hint}")
                return value
        if "enum" in node and value not in node["enum"]:
            self.error(path, "{} is not one of: {}".format(
                _describe(value), ", ".join(str(v) for v in node["enum"])))
        fmt = node.get("x-format")
        if "minimum" in node and not fmt and isinstance(value, int) and value < node["minimum"]:
            self.error(path, "{} is below the minimum {}; use {} or more".format(
                value, node["minimum"], node["minimum"]))
        if fmt and value is not None:
            self.check_format(value, fmt, path)
        if isinstance(value, dict) and "properties" in node:
            return self.walk_object(value, node, path)
        if isinstance(value, list) and "items" in node:
            return [self.walk(item, node["items"], path + (i,)) for i, item in enumerate(value)]
        return value

    def walk_object(self, value: Dict[Any, Any], node: Dict[str, Any], path: Path) -> Any:
        props: Dict[str, Any] = node["properties"]
        for key in value:
            if key not in props and node.get("additionalProperties", True) is False:
                self.error(path + (key,), f"unknown key{_did_you_mean(str(key), props)}")
                close = difflib.get_close_matches(str(key), list(props), n=1, cutoff=0.6)
                if close:  # a misspelt key: what it meant to set counts as unset, not missing
                    self.bad.append(path + (close[0],))
        for key in node.get("required", []):
            if key not in value:
                what = resolve(props[key]).get("description", "")
                self.error(path + (key,), "missing; add it{}".format(
                    " ({})".format(what.rstrip(".")) if what else ""))
        out = {}
        for key, sub in props.items():
            if key in value:
                out[key] = self.walk(value[key], sub, path + (key,))
            else:
                sub = resolve(sub)
                if "default" in sub:
                    out[key] = copy.deepcopy(sub["default"])
        for key in value:
            if key not in props:
                out[key] = value[key]
        return out

    def check_format(self, value: Any, fmt: str, path: Path) -> None:
        if fmt == "port":
            if isinstance(value, int) and not 1 <= value <= 65535:
                self.error(path, f"{value} is not a port (1-65535)")
        elif fmt == "ipv4":
            if isinstance(value, str) and not is_ipv4(value):
                self.error(path, f"{value!r} is not an IPv4 address (like 192.168.0.2)")
        elif fmt == "identifier":
            if isinstance(value, str) and not IDENTIFIER.match(value):
                self.error(path, f"{value!r} is not a plain name: use letters, digits and _ "
                                 "(at most 64)")
        elif fmt == "password":
            if isinstance(value, str):
                if not value:
                    self.error(path, "empty password: remove the key to have one generated")
                elif any(ord(c) < 32 or c in "\\'\"" for c in value):
                    self.error(path, "contains a quote, backslash or control character, which "
                                     "the rendered config files cannot carry; choose another")
        elif fmt == "path":
            if isinstance(value, str) and not value.startswith("/"):
                self.error(path, f"{value!r} is not an absolute path")
        else:
            raise ValueError("schema uses unknown x-format " + fmt)


def is_ipv4(text: str) -> bool:
    """A dotted-quad IPv4 address; IPv6 is refused because eggroll 2.0.2 routes by IPv4."""
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv4Address) and \
            text.count(".") == 3
    except ValueError:
        return False


def _did_you_mean(key: str, known: Dict[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if close:
        return f"; did you mean `{close[0]}`?"
    return "; known keys here: {}".format(", ".join(sorted(known)))


def validate_schema(doc: Document) -> Tuple[Any, List[str]]:
    """(data with defaults filled, list of error lines)."""
    data, errors, _ = check_document(doc)
    return data, errors


def check_document(doc: Document) -> Tuple[Any, List[str], List[Path]]:
    """(data with defaults filled, error lines, the key path of each error)."""
    validator = Validator(doc)
    data = validator.check()
    return data, validator.errors, validator.bad


def example_value(node: Dict[str, Any]) -> Optional[Any]:
    """The value party.yaml.example shows for a schema node."""
    node = resolve(node)
    if "x-example" in node:
        return node["x-example"]
    return node.get("default")

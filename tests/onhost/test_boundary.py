"""The on-host package stands alone: it imports nothing from the build side.

The fate-tools RPM ships ``packager/onhost`` and nothing else of ``packager``; an import
that crosses the line works in the checkout and fails on the CentOS 7 host.
"""

from __future__ import annotations

import ast
from pathlib import Path

import packager.onhost

ONHOST = Path(packager.onhost.__file__).resolve().parent


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                continue  # relative imports stay inside their package
            out += [(node.lineno, node.module or "")]
            if node.module == "packager":
                out += [(node.lineno, f"packager.{a.name}") for a in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            out.append((node.lineno, "importlib.import_module(...)"))
    return out


def test_no_import_crosses_into_the_build_side():
    crossing = []
    for path in sorted(ONHOST.rglob("*.py")):
        for line, name in _imports(path):
            if name == "importlib.import_module(...)":
                crossing.append(f"{path.relative_to(ONHOST)}:{line}: import by name")
            elif (name == "packager" or name.startswith("packager.")) and not (
                    name == "packager.onhost" or name.startswith("packager.onhost.")):
                crossing.append(f"{path.relative_to(ONHOST)}:{line}: {name}")
    assert crossing == []


def test_the_check_sees_a_crossing(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from packager.rpm import spec\nfrom packager import release\n"
                   "import importlib\nimportlib.import_module('x')\n")
    assert [n for _, n in _imports(bad)] == ["packager.rpm", "packager",
                                             "packager.release", "importlib",
                                             "importlib.import_module(...)"]

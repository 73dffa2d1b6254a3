"""The documentation names only files that exist in this repository: an operator or a
new developer reading a checkout must be able to open every file it points at."""

import re
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
DOCS = sorted([TOP / "README.md", TOP / "units/README.md", TOP / "packager/sample/README.md",
               TOP / "tests/e2e/README.md", *(TOP / "docs").glob("*.md")])
# repository-relative paths such as `specs/el7/abi.yaml`, `docs/contracts.md`, `../x/y.md`
PATH = re.compile(r"(?<![\w/.~:-])((?:\.\./|[\w-]+/)[\w./*<>{}-]*[\w*])")
# paths into the repository start with one of its top-level folders; `reference/` and
# `shared/` are folders of the workspace this project was started in, not of the repository
TOP_DIRS = {p.name for p in TOP.iterdir() if p.is_dir() and not p.name.startswith(".")}
FOREIGN = {"..", "reference", "shared"}


def named_paths(doc: Path) -> list:
    """Paths the text names that start in the repository (or pretend to)."""
    names = []
    for match in PATH.finditer(doc.read_text()):
        name = match.group(1).rstrip(".")
        if name.split("/", 1)[0] in TOP_DIRS | FOREIGN:
            names.append(name)
    return names


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(TOP)))
def test_docs_name_files_of_this_repository(doc: Path) -> None:
    missing = []
    for name in named_paths(doc):
        pattern = re.sub(r"<[^>]*>|\{[^}]*\}", "*", name)
        # a module may be named without its .py (`packager/stage/abi`)
        if not any(list(base.glob(pat)) for base in (TOP, doc.parent)
                   for pat in (pattern, pattern + ".py")):
            missing.append(name)
    assert not missing, f"{doc.relative_to(TOP)} names files not in the repository: {missing}"

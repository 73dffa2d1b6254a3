"""Writes specs/releases/sample-1.4.5.yaml from the real release's manifest.

The sample manifest must name the same artifacts as fate-1.4.5.yaml, with the size and
sha256 of what ``generate()`` writes; this keeps the two in step when the payload changes:
``python -m packager.sample.manifest`` (then review the diff and commit it).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import yaml

from packager.sample import MANIFEST, generate

REAL = MANIFEST.with_name("fate-1.4.5.yaml")

HEADER = """\
# The miniature FATE 1.4.5 release written by packager.sample.generate() (fate-pkg's
# sample: same artifact names, nesting, file names and config keys as fate-1.4.5.yaml,
# with small stand-in programs). Sizes and sha256 are those of the generator's output;
# regenerate with `python -m packager.sample.manifest` whenever packager/sample changes.
# The URLs are the real ones only so that names line up: these files are generated
# locally (generated_by), never downloaded.
"""

#: CentOS 7 packages the sample's RPMs need that the real ones do not: the sample
#: Miniconda's launcher runs /usr/bin/python3.6 (package python3) where the real Miniconda
#: carries its own CPython.
OS_REQUIRES = {"fate-python": ["python3"], "fate-jdk": ["python3"],
               "fate-mysql": ["python3"]}


def render() -> str:
    real = yaml.safe_load(REAL.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        files = {p.name: p for p in generate(Path(tmp))}
        artifacts = []
        for item in real["artifacts"]:
            data = files[item["name"]].read_bytes()
            entry = dict(item, size=len(data), sha256=hashlib.sha256(data).hexdigest())
            artifacts.append(entry)
    doc = {"release": "sample-1.4.5", "version": real["version"],
           "generated_by": "packager.sample", "includes": real.get("includes", []),
           "source_date_epoch": real.get("source_date_epoch"), "os_requires": OS_REQUIRES,
           "artifacts": artifacts}
    return HEADER + yaml.safe_dump(doc, sort_keys=False, width=100)


def main() -> int:
    MANIFEST.write_text(render())
    print(f"wrote {MANIFEST}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``fate-pkg verify``: a bundle is complete, unchanged and consistent (issue 5)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from packager import ui
from packager.errors import CheckFailed, UserError
from packager.lint import verify_bundle

EXAMPLES = """\
examples:
  fate-pkg verify dist/fate-bundle-1.4.5-el7.x86_64.tar
  fate-pkg verify /media/usb/fate-bundle-1.4.5-el7.x86_64/ --json

Checks SHA256SUMS (every file, no extra files), SHA256SUMS.asc and every RPM's signatures
against the bundle's own RPM-GPG-KEY-fate, the digests rpm -K checks, and repodata/.
exit status: 0 intact, 1 problems found, 2 not a bundle.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify", help="check a bundle's checksums, signatures, RPM digests and repodata",
        description="Verify a bundle (.tar or unpacked directory) from its own contents.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bundle", type=Path, metavar="BUNDLE")
    p.add_argument("--json", action="store_true", help="machine-readable findings on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.bundle.exists():
        raise UserError(f"{args.bundle}: no such file or directory")
    findings = verify_bundle(args.bundle)
    if args.json:
        ui.emit_json({"ok": not findings, "findings": [f.as_dict() for f in findings]})
    elif findings:
        print(ui.table(("check", "artifact", "finding"),
                       ((f.rule, f.artifact, f.message) for f in findings)))
    if findings:
        print(f"{args.bundle}: {len(findings)} problems", file=sys.stderr)
        raise CheckFailed("")
    if not args.json:
        print(f"{args.bundle}: intact", file=sys.stderr)
    return 0

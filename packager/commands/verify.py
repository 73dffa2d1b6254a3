"""``fate-pkg verify``: a bundle is complete, unchanged and consistent (issue 5)."""

from __future__ import annotations

import argparse
from pathlib import Path

from packager import ui
from packager.errors import CheckFailed, UserError
from packager.lint import VerifySummary, verify_bundle

EXAMPLES = """\
examples:
  fate-pkg verify dist/fate-bundle-1.4.5-el7.x86_64.tar
  fate-pkg verify fate-bundle-1.4.5-el7.x86_64/ --json   the unpacked bundle (tar xf ...)

Checks SHA256SUMS (every file, no extra files), SHA256SUMS.asc and every RPM's signatures
against the bundle's own RPM-GPG-KEY-fate, the digests rpm -K checks, and repodata/.
The verdict (stdout) says what was checked: signed or not, how many files, RPMs and
repodata entries; --json carries the same as "summary".
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
    summary = VerifySummary()
    findings = verify_bundle(args.bundle, summary)
    verdict = f"{len(findings)} problems" if findings else "intact"
    if args.json:
        ui.emit_json({"ok": not findings, "bundle": str(args.bundle), "verdict": verdict,
                      "summary": vars(summary), "findings": [f.as_dict() for f in findings]})
    else:
        if findings:
            print(ui.table(("check", "artifact", "finding"),
                           ((f.rule, f.artifact, f.message) for f in findings)))
            print()
        print(f"{args.bundle}: {verdict}: {describe(summary)}")
    if findings:
        raise CheckFailed("")
    return 0


def describe(s: VerifySummary) -> str:
    """One line: what the verdict rests on."""
    if s.sums_signed:
        signed = "SHA256SUMS signed by the bundle's own RPM-GPG-KEY-fate"
    elif s.key:
        signed = "SHA256SUMS not signed, though the bundle carries RPM-GPG-KEY-fate"
    else:
        signed = "unsigned (no RPM-GPG-KEY-fate, no SHA256SUMS.asc)"
    return (f"{signed}; {s.files} files match SHA256SUMS; {s.rpms} RPMs with their digests "
            f"({s.rpms_signed} signed); {s.repodata_packages} repodata entries")

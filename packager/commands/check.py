"""``fate-pkg check``: the el7 lint (docs/el7-rules.md 1-19) on finished artifacts."""

from __future__ import annotations

import argparse
from pathlib import Path

from packager import ui
from packager.errors import CheckFailed
from packager.lint import CheckOptions, Summary, check_paths
from packager.lint.finding import RULE_TITLES

EXAMPLES = """\
examples:
  fate-pkg check dist/*.rpm                        every RPM the build wrote
  fate-pkg check dist/fate-bundle-1.4.5-el7.x86_64.tar
  fate-pkg check dist/*.rpm --json | jq '.findings[] | select(.rule == "18")'
  fate-pkg check dist/*.rpm --allow-abi '/data/projects/fate/common/miniconda3/*'

exit status: 0 clean, 1 violations found, 2 bad arguments (missing path, not an artifact).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="lint RPMs and bundles against what CentOS 7 accepts",
        description="Check RPMs, bundle directories and bundle tarballs against the CentOS 7 "
        "rules: payload, rpmlib, sizes, signatures, digests, dependencies, system "
        "directories, links, systemd 219 units, Python 3.6, glibc 2.17, bash 4.2, repodata.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", type=Path, metavar="BUNDLE|RPM|DIR")
    p.add_argument("--json", action="store_true", help="machine-readable findings on stdout")
    p.add_argument("--allow-abi", action="append", default=[], metavar="PATTERN",
                   help="accept ELF ABI findings for target paths matching this fnmatch "
                   "pattern (repeatable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    summary = Summary()
    findings = check_paths(args.paths, CheckOptions(allow_abi=tuple(args.allow_abi)), summary)
    if args.json:
        ui.emit_json({"ok": not findings, "summary": vars(summary),
                      "verdict": "clean" if not findings else f"{len(findings)} violations",
                      "findings": [f.as_dict() for f in findings]})
    else:
        if findings:
            print(ui.table(("rule", "artifact", "finding"),
                           ((f.rule, f.artifact, f.message) for f in findings)))
            rules = sorted({f.rule for f in findings}, key=lambda r: (not r.isdigit(), r.zfill(3)))
            print("\n" + "; ".join(f"{r}: {RULE_TITLES.get(r, r)}" for r in rules))
        scanned = (f"{summary.rpms} RPMs ({summary.foreign} foreign skipped), "
                   f"{summary.elf_files} ELF, {summary.scripts} scripts, "
                   f"{summary.python_files} Python, {summary.unit_files} units, "
                   f"{summary.repos} repos")
        print(f"{'clean' if not findings else f'{len(findings)} violations'}: {scanned}")
    if findings:
        raise CheckFailed("")
    return 0

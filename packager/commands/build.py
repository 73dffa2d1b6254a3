"""``fate-pkg build``: the release's RPMs from the verified cache, with no network."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Callable

from packager import resources, ui
from packager.assemble import space
from packager.assemble.pipeline import BuildOptions, BuildReport, run_build
from packager.bundle import BundleResult, load_profile
from packager.bundle.from_build import bundle_after_build
from packager.errors import UserError
from packager.fetch.cache import Cache
from packager.netguard import offline
from packager.rpm import Signer, read_rpm
from packager.rpm import tags as t
from packager.rpm.spec import parse_compression
from packager.rpm.writer import source_date_epoch

HELP = """\
examples:
  fate-pkg build --offline --sample            the built-in sample release, nothing fetched
  fate-pkg fetch && fate-pkg build --offline   FATE 1.4.5 from the verified cache
  SOURCE_DATE_EPOCH=1601164800 fate-pkg build --offline --sample   byte-reproducible
  fate-pkg build --offline --sample --only fate-flow --compression gzip:6
  fate-pkg build --offline --sample --profile exchange   bundle for a rollsite-only host
  fate-pkg build --offline --sample --sign 4D9D22058BA6137D --json   signed with your key

After the RPMs, the build writes the air-gapped bundle
dist/fate-bundle-<version>[-<profile>]-el7.x86_64.tar (RPMs, yum metadata, install.sh,
SHA256SUMS); profiles are bundles/<name>.yaml.

A second build with unchanged inputs rebuilds nothing; changing one package spec
(specs/packages/*.yaml) rebuilds only that RPM. With --offline the build opens no network
socket (child processes run in a new network namespace when run as root).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build the release's RPMs into dist/", epilog=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--offline", action="store_true",
                   help="forbid any network use (the build never needs one)")
    p.add_argument("--sample", action="store_true",
                   help="build the built-in miniature release (sample-1.4.5)")
    p.add_argument("--release", help="release id in specs/releases (default fate-1.4.5)")
    p.add_argument("--cache", type=Path, help="artifact cache (default ~/.cache/fate-pkg)")
    p.add_argument("-o", "--output", type=Path, default=Path("dist"), help="default: dist/")
    p.add_argument("--compression", default="xz:6", metavar="KIND[:LEVEL]",
                   help="gzip or xz with a level (default xz:6)")
    p.add_argument("-j", "--jobs", type=int, default=0, help="RPMs built at once (0: cores)")
    p.add_argument("--sign", metavar="KEYID", help="sign with this GPG (RSA) key")
    p.add_argument("--account", default="app:apps", metavar="USER:GROUP",
                   help="service account the RPMs create and run FATE as (default app:apps)")
    p.add_argument("--build-release", default="1", metavar="N",
                   help="RPM release number (default 1; raise it for an update)")
    p.add_argument("--allow-abi", action="append", default=[], metavar="PATTERN",
                   help="accept ELF files matching PATTERN despite the CentOS 7 ABI check")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="build only this package (repeatable)")
    p.add_argument("--profile", metavar="NAME",
                   help="bundle profile in bundles/ (default: the one marked default, all-in-one)")
    p.add_argument("--no-bundle", action="store_true", help="build the RPMs only")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def _evr(outcome) -> str:
    """The built package's EVR, or the header's for an RPM that was up to date."""
    if outcome.result:
        return outcome.result.evr
    rpm = read_rpm(outcome.path)
    return f"{rpm.tag(t.VERSION)}-{rpm.tag(t.RELEASE)}"


def run(args: argparse.Namespace) -> int:
    release = args.release or ("sample-1.4.5" if args.sample else "fate-1.4.5")
    user, _, group = args.account.partition(":")
    if not user or not group:
        raise UserError(f"--account {args.account!r}: use USER:GROUP, e.g. app:apps")
    try:
        comp = parse_compression(args.compression)
    except ValueError as exc:
        raise UserError(f"--compression: {exc}") from None
    sde = source_date_epoch()
    opts = BuildOptions(
        release=release, cache=Cache(args.cache), out_dir=args.output, sample=args.sample,
        jobs=args.jobs, compression=comp, sde=sde, account=(user, group),
        build_release=args.build_release, allow_abi=tuple(args.allow_abi),
        only=tuple(args.only), progress=not args.json,
        signer=Signer(args.sign, os.environ.get("GNUPGHOME"), sde) if args.sign else None,
    )
    quiet = args.json or not sys.stderr.isatty()

    def note(kind: str, what: str) -> None:
        if not quiet:
            print(f"  {kind:6} {what}", file=sys.stderr)

    if args.no_bundle and args.profile:
        raise UserError("--profile and --no-bundle contradict each other")
    if not args.no_bundle:  # a bad profile name fails before anything is built
        load_profile(args.profile, known_packages={p.stem for p in
                                                   (resources.specs() / "packages").glob("*.yaml")})
    bundle = None
    with offline() if args.offline else contextlib.nullcontext():
        report = run_build(opts, note)
        if not args.no_bundle:
            with space.full_disk_reported(opts.out_dir):
                bundle = _bundle(report, opts, args, note)
    rows = []
    for o in report.outcomes:
        r = o.result
        rows.append({
            "rpm": o.path.name, "status": o.status, "path": str(o.path),
            "version": _evr(o),
            "files": r.files if r else None, "size": o.path.stat().st_size,
            "compression": r.compression if r else None,
            "seconds": round(r.seconds, 2) if r else 0.0,
        })
    bundle_row = None
    if bundle is not None:
        bundle_row = {"bundle": bundle.path.name, "status": bundle.status,
                      "path": str(bundle.path), "profile": bundle.profile.name,
                      "size": bundle.path.stat().st_size, "rpms": bundle.rpms,
                      "os_rpms": bundle.os_rpms, "seconds": round(bundle.seconds, 2)}
    if args.json:
        ui.emit_json({"release": report.release.release, "packages": rows,
                      "bundle": bundle_row, "seconds": round(report.seconds, 2),
                      "phases": {k: round(v, 2) for k, v in report.phases.items()},
                      "network_isolated_children": report.isolated})
        return 0
    print(ui.table(["RPM", "version", "status", "files", "size", "compression", "time"],
                   [[r["rpm"], r["version"], r["status"],
                     r["files"] if r["files"] is not None else "-",
                     ui.human_size(r["size"]), r["compression"] or "-",
                     f"{r['seconds']:.1f}s"] for r in rows]))
    built = sum(1 for r in rows if r["status"] == "built")
    print(f"\n{built} built, {len(rows) - built} up to date, in {report.seconds:.1f}s "
          f"-> {args.output}/")
    if bundle_row:
        print(f"bundle {bundle_row['bundle']}: {bundle_row['status']} "
              f"({ui.human_size(bundle_row['size'])}, profile {bundle_row['profile']}, "
              f"{bundle_row['rpms']} FATE + {bundle_row['os_rpms']} OS RPMs)")
    return 0


def _bundle(report: BuildReport, opts: BuildOptions, args: argparse.Namespace,
            note: Callable[[str, str], None]) -> BundleResult | None:
    try:
        return bundle_after_build(report, opts, args.profile, note)
    except UserError:
        if args.only:  # a partial build need not have every RPM of the profile
            print("  bundle skipped: --only built part of the release and dist/ lacks some "
                  "of the profile's RPMs", file=sys.stderr)
            return None
        raise

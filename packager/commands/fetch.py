"""``fate-pkg fetch``: download a release's artifacts into the verified cache."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from packager import ui
from packager.errors import CheckFailed, UserError
from packager.fetch.cache import Cache, default_root
from packager.fetch.fetcher import fetch_release
from packager.fetch.record import Pin, record
from packager.release import load_release
from packager.repo.closure import Closure
from packager.repo.pipeline import DEFAULT_OS_REPOS, fetch_closure, plan_os

DEFAULT_RELEASE = "fate-1.4.5"

EXAMPLES = """\
examples:
  fate-pkg fetch                                   everything for fate-1.4.5 into ~/.cache/fate-pkg
  fate-pkg fetch --mirror http://mirror.lan/fate   same files, from a local mirror (URL/<name>)
  fate-pkg fetch --release sample-1.4.5 --cache /srv/fate-cache --jobs 8
  fate-pkg fetch --release my-fate-1.4.6.yaml --record
                                                   pin size + sha256 in your new manifest (a
                                                   copy of specs/releases/fate-1.4.5.yaml)
  fate-pkg fetch --json | jq '.artifacts[] | select(.status == "failed")'
  fate-pkg fetch --os                              also the CentOS 7 packages our RPMs need
  fate-pkg fetch --os-only --os-repo http://mirror.lan/centos/7/os/x86_64/ \\
                 --os-repo http://mirror.lan/centos/7/updates/x86_64/
                                                   the same from a customer mirror

An interrupted run leaves .part files in the cache; running the same command again
resumes them with HTTP Range. Proxies come from HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
exit status: 0 all artifacts verified in the cache, 1 some failed, 2 bad arguments/manifest
(or an OS requirement nothing in the repositories provides).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch",
        help="download a release's artifacts into the verified cache",
        description="Download every artifact of a release manifest into a sha256-addressed "
        "cache, resuming interrupted downloads and verifying each file.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--release", default=DEFAULT_RELEASE, metavar="ID|FILE",
                        help=f"release id in specs/releases/ or a manifest path "
                        f"(default {DEFAULT_RELEASE})")
    parser.add_argument("--mirror", metavar="URL",
                        help="download URL/<artifact name> instead of each artifact's url")
    parser.add_argument("--cache", metavar="DIR",
                        help=f"cache directory (default {default_root()})")
    parser.add_argument("--jobs", "-j", type=int, default=4, metavar="N",
                        help="parallel downloads (default 4)")
    parser.add_argument("--record", action="store_true",
                        help="write the size and sha256 of unpinned artifacts into the manifest")
    parser.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout instead of a table")
    os_group = parser.add_argument_group(
        "OS packages", "Resolve the Requires of our package specs against CentOS 7 yum "
        "repositories (beyond the @core base in specs/el7/core-packages.txt) and fetch "
        "those RPMs; the closure is written to <cache>/os/closure.json for the build.")
    os_group.add_argument("--os-repo", action="append", metavar="URL",
                          help="a yum repository (http(s):// or file://), repeatable; "
                          "default: " + " ".join(DEFAULT_OS_REPOS))
    os_group.add_argument("--os", action="store_true",
                          help="fetch the OS closure from the default repositories")
    os_group.add_argument("--os-only", action="store_true",
                          help="only the OS closure, not the release artifacts")
    os_group.add_argument("--os-spec", action="append", metavar="FILE",
                          help="package spec to take requirements from, repeatable "
                          "(default specs/packages/*.yaml)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.mirror is not None and not args.mirror.startswith(("http://", "https://")):
        raise UserError(f"--mirror {args.mirror!r}: must be an http:// or https:// URL")
    if args.jobs < 1 or args.jobs > 64:
        raise UserError(f"--jobs {args.jobs}: must be between 1 and 64")
    for url in args.os_repo or ():
        if not url.startswith(("http://", "https://", "file://")):
            raise UserError(f"--os-repo {url!r}: must be an http://, https:// or file:// URL")
    if args.os_only and args.record:
        raise UserError("--record pins release artifacts; it cannot be used with --os-only")
    want_os = bool(args.os or args.os_repo or args.os_only or args.os_spec)
    cache = Cache(args.cache)
    report: dict = {}
    problems: list[str] = []
    closure = None
    if want_os:  # resolve first: an unresolvable requirement stops before any download
        specs = [Path(p) for p in args.os_spec] if args.os_spec else None
        closure = plan_os(cache, repos=args.os_repo or DEFAULT_OS_REPOS, specs=specs,
                          progress=not args.json,
                          log=lambda msg: None if args.json else print(msg, file=sys.stderr))
    if not args.os_only:
        problems += _fetch_release(args, cache, report)
    if closure is not None:
        problems += _fetch_os(args, closure, cache, report)
    if args.json:
        ui.emit_json(report)
    if problems:
        raise CheckFailed("; ".join(problems))
    return 0


def _fetch_release(args: argparse.Namespace, cache: Cache, report: dict) -> list[str]:
    """The release and every manifest it ``includes``; a generated sample is skipped."""
    problems: list[str] = []
    pending, done = [args.release], set()
    while pending:
        rid = pending.pop(0)
        release = load_release(rid)
        if release.release in done:
            continue
        done.add(release.release)
        pending.extend(release.includes)
        if release.generated_by:
            if not args.json:
                print(f"{release.release}: generated by {release.generated_by} at build time "
                      "(fate-pkg build --sample); nothing to download")
            continue
        part: dict = {}
        problems += _fetch_one(args, release, cache, part)
        if not report:
            report.update(part)
        elif part:
            report.setdefault("included", []).append(part)
    return problems


def _fetch_one(args: argparse.Namespace, release, cache: Cache, report: dict) -> list[str]:
    outcomes = fetch_release(release, cache, mirror=args.mirror, jobs=args.jobs,
                             progress=not args.json)
    failed = [o for o in outcomes if o.status == "failed"]
    recorded = False
    if args.record:
        pins = [Pin(o.name, o.size, o.sha256) for o in outcomes
                if o.status != "failed" and o.size is not None and o.sha256]
        recorded = record(release, pins)
    unpinned = [o.name for o in outcomes if not o.pinned and o.status != "failed"]

    if args.json:
        report.update({
            "release": release.release,
            "manifest": str(release.path),
            "cache": str(cache.root),
            "recorded": recorded,
            "artifacts": [o.as_dict() for o in outcomes],
        })
    else:
        rows = [(o.name, ui.human_size(o.size) if o.size is not None else "?", o.status,
                 f"{o.seconds:.1f}s") for o in outcomes]
        print(ui.table(("artifact", "size", "status", "time"), rows))
        total = sum(o.size or 0 for o in outcomes if o.status != "failed")
        print(f"{len(outcomes) - len(failed)}/{len(outcomes)} artifacts of {release.release} "
              f"in {cache.root} ({ui.human_size(total)})")
        if recorded:
            print(f"recorded sizes and sha256 in {release.path}")
    for outcome in failed:
        print(f"fate-pkg: {outcome.name}: {outcome.error}", file=sys.stderr)
    if unpinned and not args.record:
        print(f"fate-pkg: warning: {len(unpinned)} artifact(s) have no sha256 in "
              f"{release.path} ({', '.join(unpinned)}); run with --record to pin them",
              file=sys.stderr)
    if failed:
        return [f"{len(failed)} of {len(outcomes)} artifacts failed to fetch"]
    return []


def _fetch_os(args: argparse.Namespace, closure: Closure, cache: Cache,
              report: dict) -> list[str]:
    """The OS closure's RPMs (``--os``, ``--os-repo``): see packager/repo/pipeline.py."""
    result = fetch_closure(closure, cache, jobs=args.jobs, progress=not args.json)
    outcomes = result.outcomes
    failed = [o for o in outcomes if o.status == "failed"]
    status = {o.name: o for o in outcomes}
    if args.json:
        report["cache"] = str(cache.root)
        report["os"] = dict(closure.as_dict(), closure=str(result.path),
                            fetched=[o.as_dict() for o in outcomes])
    else:
        rows = [(p.nevra, ui.human_size(p.size), status[p.filename].status, p.reason)
                for p in closure.packages]
        print(ui.table(("os package", "size", "status", "why"), rows))
        print(f"{len(outcomes) - len(failed)}/{len(outcomes)} OS packages in {cache.root} "
              f"({ui.human_size(closure.size)}); closure in {result.path}")
    for outcome in failed:
        print(f"fate-pkg: {outcome.name}: {outcome.error}", file=sys.stderr)
    if failed:
        return [f"{len(failed)} of {len(outcomes)} OS packages failed to fetch"]
    return []

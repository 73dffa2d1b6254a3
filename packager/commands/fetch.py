"""``fate-pkg fetch``: download a release's artifacts into the verified cache."""

from __future__ import annotations

import argparse
import sys

from packager import ui
from packager.errors import CheckFailed, UserError
from packager.fetch.cache import Cache, default_root
from packager.fetch.fetcher import fetch_release
from packager.fetch.record import Pin, record
from packager.release import load_release

DEFAULT_RELEASE = "fate-1.4.5"

EXAMPLES = """\
examples:
  fate-pkg fetch                                   everything for fate-1.4.5 into ~/.cache/fate-pkg
  fate-pkg fetch --mirror http://mirror.lan/fate   same files, from a local mirror (URL/<name>)
  fate-pkg fetch --release sample-1.4.5 --cache /srv/fate-cache --jobs 8
  fate-pkg fetch --release specs/releases/fate-1.4.6.yaml --record
                                                   pin size + sha256 of a new release in place
  fate-pkg fetch --json | jq '.artifacts[] | select(.status == "failed")'

An interrupted run leaves .part files in the cache; running the same command again
resumes them with HTTP Range. Proxies come from HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
exit status: 0 all artifacts verified in the cache, 1 some failed, 2 bad arguments/manifest.
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.mirror is not None and not args.mirror.startswith(("http://", "https://")):
        raise UserError(f"--mirror {args.mirror!r}: must be an http:// or https:// URL")
    if args.jobs < 1 or args.jobs > 64:
        raise UserError(f"--jobs {args.jobs}: must be between 1 and 64")
    release = load_release(args.release)
    cache = Cache(args.cache)
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
        ui.emit_json({
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
        raise CheckFailed(f"{len(failed)} of {len(outcomes)} artifacts failed to fetch")
    return 0

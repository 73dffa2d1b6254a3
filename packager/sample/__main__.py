"""``python -m packager.sample OUT_DIR [--extra-bytes N]``: write the sample release."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from packager.filestate import sha256_file
from packager.sample import PROFILES, generate


def _size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    try:
        if text[-1:].lower() in units:
            return int(float(text[:-1]) * units[text[-1].lower()])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (bytes, or with K/M/G)") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m packager.sample",
                                     description="Write the miniature FATE 1.4.5 release.")
    parser.add_argument("out_dir")
    parser.add_argument("--extra-bytes", type=_size, default=0,
                        help="deterministic filler to add, e.g. 100M (benchmarks)")
    parser.add_argument("--profile", choices=PROFILES, default="sample",
                        help="fate-1.4.5-full: the real release's file count and size mix")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="size factor of --profile fate-1.4.5-full "
                        "(1 = ~100k paths, 5.3 GiB unpacked)")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be > 0")
    if args.extra_bytes < 0:
        parser.error("--extra-bytes must be >= 0")
    out = Path(args.out_dir)
    if out.exists() and not out.is_dir():
        parser.error(f"{out} exists and is not a directory")
    try:
        paths = generate(out, extra_bytes=args.extra_bytes, profile=args.profile,
                         scale=args.scale)
    except OSError as exc:
        print(f"python -m packager.sample: error: cannot write {exc.filename}: {exc.strerror}",
              file=sys.stderr)
        return 2
    for path in paths:
        digest = sha256_file(path)
        print(f"{digest}  {path.stat().st_size:>9}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

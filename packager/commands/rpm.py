"""``fate-pkg rpm``: build RPMs from one-package YAML descriptions."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from packager import ui
from packager.errors import UserError
from packager.rpm import BuildError, Compression, Signer, build_rpm
from packager.rpm.sign import SigningError
from packager.rpm.spec import SpecError, load_spec, parse_compression
from packager.rpm.writer import clean_stale_temporaries, source_date_epoch

HELP = """\
examples:
  fate-pkg rpm specs/demo/hello.yaml -o dist/
  fate-pkg rpm specs/demo/hello.yaml --compression gzip:6 --threads 2
  SOURCE_DATE_EPOCH=1600000000 fate-pkg rpm specs/demo/hello.yaml   # byte-reproducible
  fate-pkg rpm specs/demo/hello.yaml --sign 4D9D22058BA6137D --json

The YAML names the package (name, version, release, arch, summary, license), its files
(src -> dst, mode, owner, group; config: noreplace, doc, ghost; dir, symlink, tree),
requires / requires(pre) / provides / conflicts / obsoletes, and scripts (pre, post, preun,
postun, pretrans, posttrans). See specs/demo/hello.yaml.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rpm", help="build RPMs from package YAML files", epilog=HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("specs", nargs="+", type=Path, metavar="SPEC.yaml")
    p.add_argument("-o", "--output", type=Path, default=Path("dist"), help="default: dist/")
    p.add_argument("--compression", metavar="KIND[:LEVEL]",
                   help="gzip or xz, with a level (default: the spec's, else xz:6)")
    p.add_argument("--threads", type=int, default=0, help="compressor threads (0: all cores)")
    p.add_argument("--sign", metavar="KEYID", help="GPG key to sign with (RSA; GNUPGHOME honoured)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        override = parse_compression(args.compression) if args.compression else None
        sde = source_date_epoch()
        loaded = [load_spec(p) for p in args.specs]
    except (SpecError, BuildError, ValueError) as exc:
        raise UserError(str(exc)) from None
    signer = Signer(args.sign, os.environ.get("GNUPGHOME"), sde) if args.sign else None
    clean_stale_temporaries(args.output)
    results = []
    for pkg, spec_comp in loaded:
        base = override or spec_comp or Compression()
        comp = Compression(base.kind, base.level, args.threads)
        bar = ui.progress(sum(_size(e.source) for e in pkg.files if e.source), pkg.name)
        try:
            results.append(build_rpm(pkg, args.output, compression=comp, sde=sde, signer=signer,
                                     on_bytes=bar.update))
        except (BuildError, SigningError) as exc:
            raise UserError(str(exc)) from None
        finally:
            bar.close()
    if args.json:
        ui.emit_json([{
            "path": str(r.path), "name": r.name, "evr": r.evr, "arch": r.arch, "files": r.files,
            "installed_size": r.installed_size, "rpm_size": r.rpm_size,
            "compression": r.compression, "seconds": round(r.seconds, 3),
            "signed": signer is not None,
        } for r in results])
    else:
        print(ui.table(
            ["RPM", "files", "installed", "size", "compression", "time"],
            [[r.path.name, r.files, ui.human_size(r.installed_size), ui.human_size(r.rpm_size),
              r.compression, f"{r.seconds:.2f}s"] for r in results]))
    return 0


def _size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0

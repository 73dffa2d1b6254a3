"""``fate-pkg inspect``: what an RPM says about itself, read without rpm installed."""

from __future__ import annotations

import argparse
from pathlib import Path

from packager import ui
from packager.errors import UserError
from packager.rpm import read_rpm
from packager.rpm import tags as t
from packager.rpm.model import Dependency
from packager.rpm.reader import NotAnRpm


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="show an RPM's header, dependencies and files",
                       epilog="example:\n  fate-pkg inspect dist/fate-demo-1.0.0-1.x86_64.rpm",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rpm", type=Path)
    p.add_argument("--files", action="store_true", help="list every file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        r = read_rpm(args.rpm)
    except (OSError, NotAnRpm) as exc:
        raise UserError(str(exc)) from None
    digests = r.compute_digests()
    sig_tags = sorted(r.signature.values)
    info = {
        "nevra": r.nevra,
        "summary": r.tag(t.SUMMARY),
        "license": r.tag(t.LICENSE),
        "payload": f"{r.tag(t.PAYLOADCOMPRESSOR)}:{r.tag(t.PAYLOADFLAGS)}",
        "signed": t.SIG_RSA in sig_tags or t.SIG_PGP in sig_tags,
        "digests": digests,
        "header_bytes": len(r.header_bytes),
        "files": len(r.filenames()),
        **{kind: [str(Dependency(n, f, v)) for n, f, v in r.deps(kind)]
           for kind in ("requires", "provides", "conflicts", "obsoletes")},
    }
    if args.files:
        info["filelist"] = r.filenames()
    if args.json:
        ui.emit_json(info)
        return 0
    for key in ("nevra", "summary", "license", "payload", "signed", "header_bytes", "files"):
        print(f"{key:13} {info[key]}")
    print(f"{'digests':13} " + " ".join(f"{k}={'OK' if v else 'BAD'}" for k, v in digests.items()))
    for kind in ("requires", "provides", "conflicts", "obsoletes"):
        for dep in info[kind]:
            print(f"{kind:13} {dep}")
    for name in info.get("filelist", []):
        print(f"{'file':13} {name}")
    return 0

"""``fate-pkg inspect``: what an RPM says about itself, read without rpm installed."""

from __future__ import annotations

import argparse
import stat
from pathlib import Path

from packager import ui
from packager.errors import UserError
from packager.rpm import read_rpm
from packager.rpm import tags as t
from packager.rpm.model import Dependency
from packager.rpm.reader import NotAnRpm

EXAMPLES = """\
examples:
  fate-pkg rpm specs/demo/hello.yaml -o dist/    (writes dist/fate-demo-1.0.0-1.noarch.rpm)
  fate-pkg inspect dist/fate-demo-1.0.0-1.noarch.rpm
  fate-pkg inspect --files dist/fate-demo-1.0.0-1.noarch.rpm
  fate-pkg inspect --json dist/fate-demo-1.0.0-1.noarch.rpm
"""

#: file flags by name, in the order rpm's %files attributes are usually written
FLAGS = ((t.FILE_CONFIG, "config"), (t.FILE_NOREPLACE, "noreplace"), (t.FILE_MISSINGOK,
         "missingok"), (t.FILE_DOC, "doc"), (t.FILE_LICENSE, "license"), (t.FILE_GHOST, "ghost"))


def file_list(r) -> list[dict]:
    """One entry per file, with the fields of ``rpm -qp --dump`` (mode as octal text)."""
    names = r.filenames()
    columns = {key: r.header.array(tag) for key, tag in (
        ("size", t.FILESIZES), ("mtime", t.FILEMTIMES), ("digest", t.FILEDIGESTS),
        ("mode", t.FILEMODES), ("owner", t.FILEUSERNAME), ("group", t.FILEGROUPNAME),
        ("flags", t.FILEFLAGS), ("link", t.FILELINKTOS))}

    def at(key: str, index: int, default):
        values = columns[key]
        return values[index] if index < len(values) else default

    out = []
    for i, name in enumerate(names):
        mode = at("mode", i, 0) & 0xFFFF
        flags = at("flags", i, 0)
        out.append({"path": name, "size": at("size", i, 0), "mtime": at("mtime", i, 0),
                    "digest": at("digest", i, ""), "mode": f"{mode:o}", "owner": at("owner", i, ""),
                    "group": at("group", i, ""), "link": at("link", i, "") or None,
                    "flags": [word for bit, word in FLAGS if flags & bit]})
    return out


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="show an RPM's header, dependencies and files",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rpm", type=Path)
    p.add_argument("--files", action="store_true",
                   help="list every file with mode, owner, group, flags, size and digest "
                        "(what rpm -qlv --dump shows)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
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
        info["filelist"] = file_list(r)
    if args.json:
        ui.emit_json(info)
        return 0
    for key in ("nevra", "summary", "license", "payload", "signed", "header_bytes", "files"):
        print(f"{key:13} {info[key]}")
    print(f"{'digests':13} " + " ".join(f"{k}={'OK' if v else 'BAD'}" for k, v in digests.items()))
    for kind in ("requires", "provides", "conflicts", "obsoletes"):
        for dep in info[kind]:
            print(f"{kind:13} {dep}")
    if args.files:
        print()
        print(ui.table(("mode", "owner", "group", "flags", "size", "digest (sha256)", "path"),
                       [(stat.filemode(int(f["mode"], 8)), f["owner"], f["group"],
                         ",".join(f["flags"]) or "-", f["size"], f["digest"] or "-",
                         f["path"] + (f" -> {f['link']}" if f["link"] else ""))
                        for f in info["filelist"]]))
    return 0

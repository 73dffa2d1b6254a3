"""``fate-pkg units``: render the systemd units into a staging root, and check unit files
against systemd 219 (what CentOS 7 runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from packager.errors import CheckFailed, UserError
from packager.onhost import catalogue, services
from packager.units_lint import lint_files


def _account(text: str) -> tuple[str, str]:
    user, sep, group = text.partition(":")
    if not user or not sep or not group:
        raise argparse.ArgumentTypeError(f"expected USER:GROUP, got {text!r}")
    return user, group


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "units", help="render FATE's systemd units / check units against systemd 219",
        description="Render units/services.yaml into systemd units, fate.target and the "
                    "preset file, or check unit files against systemd 219's directives.")
    sub = parser.add_subparsers(dest="units_command", metavar="ACTION")
    render = sub.add_parser("render", help="write usr/lib/systemd/... under a staging root")
    render.add_argument("root", type=Path, help="staging root (created if missing)")
    render.add_argument("--account", type=_account, default=services.DEFAULT_ACCOUNT,
                        metavar="USER:GROUP", help="service account (default app:apps)")
    render.set_defaults(func=_render)
    lint = sub.add_parser("lint", help="refuse directives systemd 219 does not know")
    lint.add_argument("files", nargs="+", type=Path)
    lint.set_defaults(func=_lint)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _render(args: argparse.Namespace) -> int:
    try:
        written = services.render_units(str(args.root), account=args.account)
    except catalogue.ServiceDefinitionError as exc:
        raise UserError(str(exc)) from None
    for path in written:
        print(path)
    return 0


def _lint(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.files if not p.is_file()]
    if missing:
        raise UserError(f"no such unit file: {missing[0]}")
    problems = lint_files(list(args.files))
    for problem in problems:
        print(problem)
    if problems:
        raise CheckFailed(f"{len(problems)} problem(s) for systemd 219")
    print(f"{len(args.files)} unit file(s) OK for systemd 219")
    return 0

# FATE SAMPLE STAND-IN -- see virtualenv/__init__.py.
import argparse
import subprocess
import sys


def run(argv=None):
    parser = argparse.ArgumentParser(prog="virtualenv")
    parser.add_argument("dest")
    parser.add_argument("-p", "--python", default=sys.executable)
    for flag in ("--no-wheel", "--no-setuptools", "--no-download", "--no-pip",
                 "--system-site-packages", "--clear"):
        parser.add_argument(flag, action="store_true")
    args = parser.parse_args(argv)
    cmd = [args.python, "-m", "venv", args.dest]
    if args.no_pip:
        cmd.insert(3, "--without-pip")
    if args.system_site_packages:
        cmd.insert(3, "--system-site-packages")
    if args.clear:
        cmd.insert(3, "--clear")
    try:
        code = subprocess.call(cmd)
    except OSError as exc:
        sys.stderr.write(f"virtualenv: cannot run {args.python}: {exc}\n")
        return 1
    if code == 0:
        print(f"created virtual environment in {args.dest} (FATE sample virtualenv 20.0.18)")
    return code


if __name__ == "__main__":
    sys.exit(run())

#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu build host: system packages (as root) and .venv.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=$(sed -e 's/#.*//' scripts/apt-packages.txt | xargs)
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: please install as root:$missing" >&2
        exit 2
    fi
    echo "setup: installing Debian packages:$missing" >&2
    apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
        --no-install-recommends $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=.venv/.fate-pkg-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
    touch "$stamp"
fi
# The only files a sample build needs from outside: the pure-Python libraries vendored
# into fate-tools (3 wheels from PyPI, sha256-pinned in specs/releases/vendor-py36.yaml).
.venv/bin/fate-pkg fetch --release vendor-py36 >/dev/null
# CentOS 7's python3 is 3.6: the on-host tests run a second time on a CPython 3.6 (pyenv's
# on these machines), in .venv36 with pytest 7.0 (the last to support 3.6) and nothing
# else; .venv36/wheels holds pip 10.0.1, the pip of Miniconda 4.5.4, for the python-env test.
py36=$(scripts/find-python36.sh || true)
if [ -z "$py36" ]; then
    echo "setup: no CPython 3.6 here: the on-host tests on 3.6 will be skipped" >&2
else
    if [ ! -x .venv36/bin/python ]; then
        "$py36" -m venv .venv36
    fi
    if [ ! -f .venv36/.fate-pkg-installed ]; then
        # --isolated: this host's pip settings (find-links of wheels for newer Pythons) would
        # make pip 18 pick releases that need Python >= 3.7.
        .venv36/bin/pip --isolated --disable-pip-version-check install -q "pytest==7.0.1"
        .venv36/bin/pip --isolated --disable-pip-version-check download -q --no-deps -d .venv36/wheels \
            "pip==10.0.1"
        touch .venv36/.fate-pkg-installed
    fi
fi
echo "setup: ready (.venv/bin/fate-pkg)" >&2

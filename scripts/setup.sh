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
echo "setup: ready (.venv/bin/fate-pkg)" >&2

#!/usr/bin/env bash
# Print the path of a CPython 3.6 (CentOS 7's python3 version), or exit 1 if there is none:
# $FATE_PKG_PYTHON36, /usr/bin/python3.6, python3.6 on PATH, pyenv's newest 3.6.
set -euo pipefail
is_36() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 6))' 2>/dev/null; }
for candidate in "${FATE_PKG_PYTHON36:-}" /usr/bin/python3.6 "$(command -v python3.6 || true)" \
        $(find "$HOME/.pyenv/versions" -maxdepth 1 -name '3.6.*' 2>/dev/null | sort -rV); do
    [ -n "$candidate" ] || continue
    [ -d "$candidate" ] && candidate="$candidate/bin/python3.6"
    if [ -x "$candidate" ] && is_36 "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done
exit 1

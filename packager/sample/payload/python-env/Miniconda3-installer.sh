#!/bin/sh
# FATE SAMPLE STAND-IN -- fate-pkg's miniature "Miniconda3-4.5.4-Linux-x86_64.sh"; NOT conda.
# Same usage as the real installer: sh Miniconda3-4.5.4-Linux-x86_64.sh -b -p PREFIX
# It makes PREFIX a Python environment with bin/python3 and bin/pip by running
# "python3 -m venv" with the host's python3 (FATE_SAMPLE_HOST_PYTHON overrides which one),
# adds the bin/python3.6 name FATE 1.4.5's commands use, then unpacks the payload
# appended after the __PAYLOAD__ line into PREFIX.
set -eu
PREFIX="$HOME/miniconda3"
BATCH=0
while [ $# -gt 0 ]; do
    case "$1" in
        -b) BATCH=1 ;;
        -p) [ $# -ge 2 ] || { echo "ERROR: -p needs a path" >&2; exit 2; }; PREFIX="$2"; shift ;;
        -u) ;;
        -h|--help)
            echo "usage: $0 [-b] [-p PREFIX] [-u]   (FATE sample Miniconda3 4.5.4)"; exit 0 ;;
        *) echo "ERROR: did not recognize option '$1', please try -h" >&2; exit 2 ;;
    esac
    shift
done
if [ "$BATCH" -ne 1 ]; then
    echo "ERROR: the FATE sample installer runs in batch mode only (-b)" >&2
    exit 2
fi
if [ -e "$PREFIX" ] && [ -n "$(ls -A "$PREFIX" 2>/dev/null)" ]; then
    echo "ERROR: File or directory already exists: '$PREFIX'" >&2
    echo "If you want to update an existing installation, use the -u option." >&2
    exit 1
fi
# The system python3 first: the venv's bin/python links to it, and an RPM built from this
# environment must point at an interpreter the target host has too (not a build-host pyenv).
if [ -z "${FATE_SAMPLE_HOST_PYTHON:-}" ] && [ -x /usr/bin/python3 ]; then
    FATE_SAMPLE_HOST_PYTHON=/usr/bin/python3
fi
HOST_PY="${FATE_SAMPLE_HOST_PYTHON:-$(command -v python3 || true)}"
if [ -z "$HOST_PY" ]; then
    echo "ERROR: the FATE sample Miniconda needs python3 on this host" >&2
    exit 1
fi
echo "PREFIX=$PREFIX"
echo "installing: python-3.6.5 (FATE sample: venv of $HOST_PY) ..."
"$HOST_PY" -m venv "$PREFIX"
[ -e "$PREFIX/bin/python3.6" ] || ln -s python3 "$PREFIX/bin/python3.6"
line=$(awk '/^__PAYLOAD__$/ { print NR + 1; exit 0 }' "$0")
tail -n +"$line" "$0" | tar xzf - -C "$PREFIX"
echo "installation finished."
exit 0
__PAYLOAD__

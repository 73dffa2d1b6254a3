#!/bin/sh
# FATE SAMPLE STAND-IN -- fate-pkg's miniature "Miniconda3-4.5.4-Linux-x86_64.sh"; NOT conda.
# Same usage as the real installer: sh Miniconda3-4.5.4-Linux-x86_64.sh -b -p PREFIX
# The real Miniconda 4.5.4 carries its own CPython 3.6.5 and pip 10.0.1. This one borrows a
# Python 3.6 instead: it makes PREFIX a venv of it (bin/python3, bin/pip; pip is the one
# that Python bundles, or FATE_SAMPLE_PIP_WHEEL), then replaces the interpreter links with
# a small launcher (bin/python3.6) that runs CentOS 7's own /usr/bin/python3.6 (package
# python3, which fate-python requires) -- or, on a host without it such as a build host,
# the 3.6 that made PREFIX. Venvs made with PREFIX/bin/python3 link to that launcher, inside
# the RPM, not to a build host's interpreter. Which 3.6: FATE_SAMPLE_HOST_PYTHON, else
# /usr/bin/python3.6, python3.6 on PATH, pyenv's newest 3.6. The payload appended after
# the __PAYLOAD__ line is unpacked into PREFIX.
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
is_36() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 6))' 2>/dev/null; }
HOST_PY="${FATE_SAMPLE_HOST_PYTHON:-}"
if [ -z "$HOST_PY" ]; then
    for candidate in /usr/bin/python3.6 "$(command -v python3.6 || true)" \
            $(ls -d "$HOME"/.pyenv/versions/3.6.*/bin/python3.6 2>/dev/null | sort -r); do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && is_36 "$candidate"; then
            HOST_PY="$candidate"; break
        fi
    done
fi
if [ -z "$HOST_PY" ] || ! is_36 "$HOST_PY"; then
    echo "ERROR: the FATE sample Miniconda is Python 3.6, as Miniconda 4.5.4 is: no Python 3.6" \
         "found (${HOST_PY:-none}); set FATE_SAMPLE_HOST_PYTHON to one" >&2
    exit 1
fi
echo "PREFIX=$PREFIX"
echo "installing: python-3.6 (FATE sample: venv of $HOST_PY) ..."
"$HOST_PY" -m venv "$PREFIX"
if [ -n "${FATE_SAMPLE_PIP_WHEEL:-}" ]; then
    "$PREFIX/bin/python3" -m pip install --no-index -q "$FATE_SAMPLE_PIP_WHEEL"
fi
rm -f "$PREFIX/bin/python" "$PREFIX/bin/python3" "$PREFIX/bin/python3.6"
cat > "$PREFIX/bin/python3.6" <<LAUNCHER
#!/bin/bash
# FATE SAMPLE STAND-IN -- Miniconda 4.5.4's bin/python3.6, made by the sample installer; NOT
# CPython. It runs the host's Python 3.6 under this file's name (exec -a), so sys.executable
# and sys.prefix are this prefix, or the venv a link to this file sits in.
for py in /usr/bin/python3.6 $HOST_PY; do
    if [ -x "\$py" ]; then exec -a "\$0" "\$py" "\$@"; fi
done
echo "\$0: no Python 3.6 on this host (CentOS 7: yum install python3)" >&2
exit 127
LAUNCHER
chmod 755 "$PREFIX/bin/python3.6"
ln -s python3.6 "$PREFIX/bin/python3"
ln -s python3.6 "$PREFIX/bin/python"
# Where the standard library is found when no lib/python3.6/os.py is under PREFIX: the
# interpreter's own compiled-in prefix (/usr on CentOS 7).
sed -i 's|^home = .*|home = /usr/bin|' "$PREFIX/pyvenv.cfg"
line=$(awk '/^__PAYLOAD__$/ { print NR + 1; exit 0 }' "$0")
tail -n +"$line" "$0" | tar xzf - -C "$PREFIX"
echo "installation finished."
exit 0
__PAYLOAD__

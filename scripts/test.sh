#!/usr/bin/env bash
# The whole test suite, as CI runs it: setup, lint, target-side 3.6 check, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check packager tests bench scripts
# Target-side code runs on CentOS 7's Python 3.6: refuse anything newer.
.venv/bin/vermin --target=3.6- --no-tips --violations --eval-annotations packager/onhost units/__init__.py
exec .venv/bin/pytest "$@"

#!/usr/bin/env bash
# The two commands of the README's Quick start; each does all set-up it needs on a
# fresh Debian 12 machine (as root, or with sudo):
#   ./dev.sh demo [kiosk demo options]   run the kiosk on its embedded defaults
#   ./dev.sh test [pytest options]       run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-}; shift || true
case "$mode" in demo|test) ;; *) echo "usage: ./dev.sh demo|test [options]" >&2; exit 64;; esac

scripts/install-system-deps.sh "$mode"

# (Re)install the virtual environment when pyproject.toml changed since the last time.
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  rm -f .venv/.installed-*; touch "$stamp"
fi

if [ "$mode" = demo ]; then
  exec .venv/bin/kiosk demo "$@"
fi
exec .venv/bin/python -m pytest -q "$@"

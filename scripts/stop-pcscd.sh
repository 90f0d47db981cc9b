#!/usr/bin/env bash
# Stops the pcscd started by start-pcscd.sh (or any system pcscd), waiting until it is gone.
set -euo pipefail
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
pid=$(tr -dc 0-9 2>/dev/null < /run/pcscd/pcscd.pid || true)  # the file ends with a NUL
{ [ -n "$pid" ] && [ -d "/proc/$pid" ]; } || exit 0
$sudo kill -TERM $pid
for _ in $(seq 50); do
  [ -d "/proc/$pid" ] || exit 0
  sleep 0.1
done
echo "pcscd ($pid) did not stop within 5 s" >&2
exit 1

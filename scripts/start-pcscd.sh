#!/usr/bin/env bash
# Starts pcscd with the vpcd virtual reader ("Virtual PCD 00 00" on TCP 35963), unless it
# already runs. Idempotent; needs no systemd. Log: /tmp/kiosk-pcscd.log
set -euo pipefail

socket=/run/pcscd/pcscd.comm
log=/tmp/kiosk-pcscd.log
conf=/etc/reader.conf.d/vpcd
vpcd_port=35963

pidfile=/run/pcscd/pcscd.pid
# pcscd ends its pid file with a NUL byte, hence tr.
pcscd_running() { local pid; pid=$(tr -dc 0-9 2>/dev/null < "$pidfile") && [ -n "$pid" ] && [ -d "/proc/$pid" ]; }

command -v pcscd >/dev/null || { echo "pcscd is not installed: run scripts/install-system-deps.sh" >&2; exit 1; }
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || { echo "vsmartcard-vpcd is not installed" >&2; exit 1; }

sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! grep -qs "$(printf '0x%X' "$vpcd_port")" "$conf"; then
  # The package's file reads exactly this; rewrite it if someone changed the port.
  $sudo mkdir -p "$(dirname "$conf")"
  printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x%X\nLIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID    0x%X\n' \
    "$vpcd_port" "$vpcd_port" | $sudo tee "$conf" >/dev/null
fi

if pcscd_running && [ -S "$socket" ]; then
  exit 0
fi
if ! pcscd_running; then
  $sudo rm -f "$socket" "$pidfile"  # left over by a pcscd that was killed
  $sudo mkdir -p /run/pcscd
  # --foreground keeps pcscd out of daemon() so its log goes to our file; setsid detaches it.
  $sudo setsid pcscd --foreground >>"$log" 2>&1 < /dev/null &
fi

for _ in $(seq 50); do
  [ -S "$socket" ] && exit 0
  sleep 0.1
done
echo "pcscd did not create $socket within 5 s; see $log" >&2
exit 1

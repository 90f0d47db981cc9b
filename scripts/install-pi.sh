#!/usr/bin/env bash
# Takes a fresh Raspberry Pi OS Lite (64-bit, Debian 12 "bookworm") to a running kiosk:
# packages, the `kiosk` user and its groups, a venv in /opt/kiosk with this checkout
# in /opt/kiosk/src, /etc/kiosk/kiosk.toml, state in /var/lib/kiosk, the systemd unit
# and a polkit rule for the maintenance screens' restart and shut-down buttons.
# Safe to run again: it keeps an existing config and upgrades the code.
#
# Usage: sudo scripts/install-pi.sh [--dry-run] [--pki DIR] [--with-stub] [--no-start]
#   --dry-run    print every command instead of running it (needs no root)
#   --pki DIR    copy the center's root.pem, the terminal's terminal.pem and
#                terminal.key, and municipal-signer.pem from DIR to /etc/kiosk/pki
#   --with-stub  also run the issuance center stub here (lab machines only); without
#                --pki the kiosk then uses the stub's certificates
#   --no-start   install and enable, but do not start the kiosk now
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/kiosk
etc=/etc/kiosk
state=/var/lib/kiosk
units=/etc/systemd/system
groups=video,render,input,tty,dialout,lpadmin

dry_run=false pki="" with_stub=false start=true
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=true ;;
    --pki) pki=${2:?--pki needs a folder}; shift ;;
    --with-stub) with_stub=true ;;
    --no-start) start=false ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-pi: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done

# run CMD...: one command, printed first; under --dry-run only printed.
run() {
  printf '+ %s\n' "$*"
  "$dry_run" || "$@"
}
# shell 'CMDLINE': a command line with a pipe, redirection or condition.
shell() {
  printf '+ %s\n' "$1"
  "$dry_run" || bash -c "$1"
}

if ! "$dry_run"; then
  [ "$(id -u)" -eq 0 ] || { echo "install-pi: run as root (sudo), or with --dry-run" >&2; exit 1; }
  # shellcheck disable=SC1091  # the running system's file
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ "$codename" = bookworm ] || echo "install-pi: warning: made for Debian 12 (bookworm), this is '$codename'" >&2
fi
pki_files="root.pem terminal.pem terminal.key municipal-signer.pem"
[ -z "$pki" ] || for f in $pki_files; do
  [ -f "$pki/$f" ] || { echo "install-pi: $pki/$f is missing" >&2; exit 1; }
done

echo "== packages"
export DEBIAN_FRONTEND=noninteractive
run apt-get update
# pcscd+libccid: USB card readers; cups: the document printer; fonts for the screens
# and documents; gcc, swig and the -dev packages build pyscard and pycups; SDL's
# KMS/DRM driver loads libdrm, libgbm and EGL/GLES at run time, and Mesa's EGL and
# DRI drivers (vc4/v3d) do the drawing; Lite installs none of them.
run apt-get install -y --no-install-recommends \
  python3 python3-venv python3-dev gcc swig \
  pcscd libccid libpcsclite-dev \
  cups libcups2-dev \
  fonts-ipaexfont fonts-ipaexfont-mincho fonts-ipaexfont-gothic \
  fonts-wqy-microhei fonts-nanum fonts-dejavu-core \
  libdrm2 libgbm1 libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri libudev1 \
  polkitd systemd-timesyncd

echo "== user"
shell "getent passwd kiosk >/dev/null || useradd --system --user-group --home-dir $state --shell /usr/sbin/nologin kiosk"
run usermod --append --groups "$groups" kiosk

echo "== code"
run install -d -m 0755 "$prefix" "$prefix/src"
shell "tar -C '$src' --exclude=./.git --exclude=./.venv --exclude=./var --exclude=./out --exclude='*.egg-info' -cf - . | tar -C $prefix/src -xf -"
shell "[ -x $prefix/bin/python ] || python3 -m venv $prefix"
# Editable, so the seed data and translations are read from the source tree.
run "$prefix/bin/pip" install --quiet -e "$prefix/src"

if "$with_stub"; then
  echo "== issuance center stub (lab)"
  shell "getent passwd kiosk-municipal >/dev/null || useradd --system --user-group --home-dir /var/lib/kiosk-municipal --shell /usr/sbin/nologin kiosk-municipal"
  run install -d -m 0750 -o kiosk-municipal -g kiosk-municipal /var/lib/kiosk-municipal
  shell "[ -e /var/lib/kiosk-municipal/registry.sqlite ] || runuser -u kiosk-municipal -- $prefix/bin/kiosk-municipal init --dir /var/lib/kiosk-municipal"
  run install -m 0644 "$src/systemd/kiosk-municipal.service" "$units/kiosk-municipal.service"
  run systemctl daemon-reload
  run systemctl enable --now kiosk-municipal.service
  # This kiosk talks to that stub, with the terminal certificate it made.
  [ -n "$pki" ] || pki=/var/lib/kiosk-municipal/pki
fi

echo "== configuration and state"
run install -d -m 0750 -o root -g kiosk "$etc" "$etc/pki"
shell "[ -e $etc/kiosk.toml ] || install -m 0640 -o root -g kiosk '$src/config/kiosk.example.toml' $etc/kiosk.toml"
if [ -n "$pki" ]; then
  run install -m 0644 -o root -g kiosk "$pki/root.pem" "$pki/terminal.pem" "$pki/municipal-signer.pem" "$etc/pki/"
  run install -m 0640 -o root -g kiosk "$pki/terminal.key" "$etc/pki/"
fi
run install -d -m 0750 -o kiosk -g kiosk "$state"

echo "== services"
run install -m 0644 "$src/systemd/kiosk.service" "$units/kiosk.service"
run install -m 0644 "$src/systemd/50-kiosk.rules" /etc/polkit-1/rules.d/50-kiosk.rules
run systemctl daemon-reload
# The kiosk owns tty1; technicians log in on tty2 (Ctrl+Alt+F2) or over SSH.
run systemctl disable getty@tty1.service
run systemctl enable pcscd.socket cups.service systemd-timesyncd.service kiosk.service

echo "== check"
# The self-test reports; a failed check does not undo the installation. A kiosk
# already running holds the serial ports, so it stops first.
run systemctl stop kiosk.service
shell "runuser -u kiosk -- $prefix/bin/kiosk selftest --config $etc/kiosk.toml || echo 'install-pi: some checks failed; fix them and run: sudo -u kiosk $prefix/bin/kiosk selftest --config $etc/kiosk.toml'"
if "$start"; then
  run systemctl restart kiosk.service
fi
echo "install-pi: done. Configuration: $etc/kiosk.toml; log: journalctl -u kiosk"

#!/usr/bin/env bash
# Installs the Debian packages the kiosk and its tests use, only if any is missing.
# Usage: scripts/install-system-deps.sh [demo|test]
set -euo pipefail
mode=${1:-test}

pkgs=(python3 python3-venv python3-dev gcc fonts-ipaexfont-mincho fonts-ipaexfont-gothic
      fonts-wqy-microhei fonts-nanum fonts-dejavu-core  # screen text in Chinese, Korean, Vietnamese
      libpcsclite-dev swig libcups2-dev)          # fonts; headers for pyscard and pycups
if [ "$mode" = test ]; then
  pkgs+=(pcscd vsmartcard-vpcd                   # PC/SC daemon and the virtual reader
         cups printer-driver-cups-pdf            # real CUPS with a PDF printer
         poppler-utils socat                     # pdftotext/pdftoppm, pty pairs
         systemd shellcheck)                     # systemd-analyze for the units; the Pi install script
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Keep package scripts from starting daemons we start ourselves, with our own config.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

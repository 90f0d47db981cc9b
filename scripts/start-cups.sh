#!/usr/bin/env bash
# Starts cupsd (no systemd needed) and sets up the KioskPDF queue: a cups-pdf printer
# whose PDFs land in one known folder. Idempotent; safe to run before every test session.
# Prints the output folder as its last line. Needs root (cupsd, lpadmin, /etc/cups).
#
# Files appear as  $OUT_DIR/job_<CUPS job id>-<job title>.pdf  (cups-pdf Label 1,
# TitlePref 1), so a test that knows its job id knows its file.
#
# cups-pdf oddities found on Debian 12 (cups 2.4.2, cups-pdf 3.0.1):
# - Jobs submitted as root are written as root (no "anonymous" fallback); jobs of other
#   users are written as that user, so the folder is world-writable like /tmp.
# - Files default to mode 0600 (UserUMask 0077); 0022 lets non-root tests read them.
# - With TitlePref 0 it takes %%Title from the PostScript, which for a reportlab PDF is
#   the hex-encoded UTF-16 /Title; DecodeHexStrings then mangles it into names like
#   "..._using_non-Linux-generated_files.pdf". TitlePref 1 uses the job title instead.
# - cups-pdf ignores `copies`: one job, one single-copy PDF.
# - cups-pdf only takes PostScript, so CUPS converts PDF -> PS first. The default
#   renderers (gs, poppler) drop the ToUnicode maps of reportlab's TrueType subsets and
#   pdftotext then sees only the ASCII; pdftocairo keeps them, so the queue uses it.
#   (Even so a few ASCII runs come back as Type 3 glyphs without text.)
# - A raw queue (-m raw) hands the PDF straight to cups-pdf, which yields a blank page.
# - lpadmin warns that printer drivers (PPDs) are deprecated; harmless on CUPS 2.4.
set -euo pipefail

QUEUE=KioskPDF
OUT_DIR=${KIOSK_CUPS_PDF_DIR:-/var/spool/cups-pdf-kiosk}
CONF=/etc/cups/cups-pdf.conf

scheduler_running() { lpstat -r 2>/dev/null | grep -q "scheduler is running"; }

if ! scheduler_running; then
  mkdir -p /run/cups
  /usr/sbin/cupsd  # forks into the background on its own
  for _ in $(seq 50); do scheduler_running && break; sleep 0.2; done
  scheduler_running || { echo "cupsd did not start; see /var/log/cups/error_log" >&2; exit 1; }
fi

# Set a cups-pdf key whether it is present, commented out, or missing.
set_key() {
  if grep -Eq "^#?$1[[:space:]]" "$CONF"; then
    sed -i -E "s|^#?$1[[:space:]].*|$1 $2|" "$CONF"
  else
    echo "$1 $2" >>"$CONF"
  fi
}
# cups-pdf rereads its config for every job: no restart needed.
set_key Out "$OUT_DIR"
set_key AnonDirName "$OUT_DIR"
set_key Label 1
set_key TitlePref 1
set_key UserUMask 0022
mkdir -p "$OUT_DIR"
chmod 1777 "$OUT_DIR"

if ! lpstat -p "$QUEUE" >/dev/null 2>&1; then
  model=$(lpinfo -m | awk '/CUPS-PDF_noopt\.ppd/ {print $1; exit}')
  [ -n "$model" ] || { echo "no cups-pdf model; install printer-driver-cups-pdf" >&2; exit 1; }
  lpadmin -p "$QUEUE" -v cups-pdf:/ -m "$model" 2>/dev/null
fi
lpadmin -p "$QUEUE" -o pdftops-renderer-default=pdftocairo
cupsenable "$QUEUE"  # also clears a stop left behind by an interrupted test
cupsaccept "$QUEUE"

echo "$OUT_DIR"

"""Device checks for `kiosk selftest` and the staff maintenance screens.

Each check answers one question (is the reader there, does the printer take jobs...)
with a Check: a name, pass or fail, and a detail in plain words for staff. Details
name devices, paths and outcomes, never anything read from a resident's card.

The checks run side by side, each in its own thread with its own time limit: a
device that hangs costs its own check, not the others, and run_checks never raises.
They block for up to the longest limit, so the kiosk calls them off the frame loop.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import io
import os
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Callable

import httpx
from cryptography import x509

from devices.card.errors import CardError, NoCard, OldJukiCard, ReaderUnavailable
from devices.card.jpki_client import JpkiClient
from devices.card.transports import CardTransport, InProcessTransport
from kiosk.config import KioskConfig
from contract.issuance import API

CLOCK_COMMAND = ["timedatectl", "show", "-p", "NTPSynchronized", "--value"]
MAX_CLOCK_OFFSET_S = 30.0  # against the center's clock, when timedatectl cannot tell
CERT_EXPIRY_WARNING = dt.timedelta(days=30)
# Seconds each check may take; the printer's and the center's add their own timeouts.
LIMITS = {"card_reader": 5.0, "card": 10.0, "document_printer": 10.0, "receipt_printer": 8.0,
          "payment": 10.0, "journal": 5.0, "issuance_center": 2.0, "clock": 8.0}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # plain words, no personal data


class CheckFailed(Exception):
    """A check's failure, its message being the detail."""


def run_checks(config: KioskConfig, *, test_page: bool = False, card: CardTransport | None = None,
               payment=None, printer=None) -> list[Check]:
    """Every check the configuration calls for, in a fixed order.

    `card`, `payment` and `printer` are devices the running kiosk already holds open (a
    serial port opens once; a simulated device keeps its cash and paper counts); when
    absent the checks open their own from the configuration and close them again."""
    checks: list[tuple[str, Callable[[], str]]] = [
        ("card_reader", lambda: _card_reader(config, card)),
        ("card", lambda: _card(config, card)),
        ("document_printer", lambda: _document_printer(config, test_page, printer)),
        ("receipt_printer", lambda: _receipt_printer(config.receipt_printer)),
        ("payment", lambda: _payment(config.payment, payment)),
        ("journal", lambda: _journal(config.journal)),
        ("issuance_center", lambda: _issuance_center(config)),
        ("clock", lambda: _clock(config)),
    ]
    extra = {"document_printer": config.printer.timeout_s if test_page else 0.0,
             "issuance_center": config.issuance.timeout_s}
    plan = [(name, LIMITS[name] + extra.get(name, 0.0), check) for name, check in checks]
    return _run_all(plan)


def _run_all(plan: list[tuple[str, float, Callable[[], str]]]) -> list[Check]:
    results: dict[str, Check] = {}

    def run(name: str, check: Callable[[], str]) -> None:
        try:
            results[name] = Check(name, True, check())
        except CheckFailed as exc:
            results[name] = Check(name, False, str(exc))
        except Exception as exc:  # a driver's surprise must not take the other checks with it
            results[name] = Check(name, False, f"check failed unexpectedly: {type(exc).__name__}: {exc}")

    started = time.monotonic()
    threads = []
    for name, limit, check in plan:
        # Daemon threads: a check stuck in a driver call past its limit is abandoned.
        thread = threading.Thread(target=run, args=(name, check), name=f"check {name}", daemon=True)
        thread.start()
        threads.append((thread, name, limit))
    checks = []
    for thread, name, limit in threads:
        thread.join(max(0.0, started + limit - time.monotonic()))
        checks.append(results.get(name) or Check(name, False, f"no answer within {limit:g} s"))
    return checks


# --- card ------------------------------------------------------------------------

def _transport(config: KioskConfig, card: CardTransport | None) -> CardTransport:
    if card is not None:
        return card
    from kiosk.wiring import card_transport
    try:
        return card_transport(config.card)
    except (OSError, ValueError) as exc:
        raise CheckFailed(f"cannot load the in-process card file {config.card.card_file}: {exc}") from exc


def _card_reader(config: KioskConfig, card: CardTransport | None) -> str:
    transport = _transport(config, card)
    if isinstance(transport, InProcessTransport):
        return "in-process virtual card reader (no hardware)"
    from smartcard.System import readers  # pyscard; only for a PC/SC kiosk
    try:
        names = sorted(str(r) for r in readers())
    except Exception as exc:  # pyscard raises its own types when pcscd is down
        raise CheckFailed(f"the PC/SC service (pcscd) does not answer: {exc}") from exc
    found = [n for n in names if config.card.reader in n]
    if not found:
        listed = ", ".join(names) if names else "none"
        raise CheckFailed(f"no reader whose name contains {config.card.reader!r} (readers: {listed})")
    return f"reader {found[0]!r} present"


def _card(config: KioskConfig, card: CardTransport | None) -> str:
    """A card on the reader must answer the JPKI SELECT and carry a My Number card's
    token. No card placed is a pass: a kiosk at rest has none, so staff place a test
    card when they want this checked."""
    transport = _transport(config, card)
    client = JpkiClient(transport)
    try:
        if not transport.card_present():
            return "no card on the reader (place a test card to check that one answers)"
        client.open()
    except NoCard:
        return "no card on the reader (place a test card to check that one answers)"
    except ReaderUnavailable as exc:
        raise CheckFailed(f"not checked: the reader is unavailable ({exc})") from exc
    except OldJukiCard as exc:
        raise CheckFailed("the card is a Basic Resident Register card, not a My Number card") from exc
    except CardError as exc:
        raise CheckFailed(f"the card does not answer the JPKI SELECT as a My Number card: {exc}") from exc
    finally:
        client.close()
    return "the card on the reader answers the JPKI application as a My Number card"


# --- printers --------------------------------------------------------------------

def _document_printer(config: KioskConfig, test_page: bool, printer) -> str:
    from devices.printer import PaperState, PrinterError
    from kiosk.wiring import document_printer
    settings = config.printer
    where = f"print folder {settings.directory}" if settings.kind == "folder" else f"CUPS queue {settings.queue}"
    if settings.kind == "folder":
        _writable(settings.directory, "print folder")  # a real write: os.access() says yes to root
    try:
        printer = printer or document_printer(settings)
        status = printer.status()
    except PrinterError as exc:
        raise CheckFailed(f"{where}: {exc}") from exc
    paper = {PaperState.OK: "paper loaded", PaperState.NEAR_END: "paper running low: refill soon",
             PaperState.OUT: "out of paper", PaperState.UNKNOWN: "the printer does not report its paper"}[status.paper]
    if status.sheets_left is not None:
        paper += f" ({status.sheets_left} sheets left)"
    if not status.ready:
        raise CheckFailed(f"{where} is not ready: {status.message or paper}")
    detail = f"{where} is ready; {paper}" + (f"; {status.message}" if status.message else "")
    if test_page:
        try:
            result = printer.print_pdf(printer_test_page(config.terminal_id), title="Test page",
                                       timeout=settings.timeout_s)
        except PrinterError as exc:
            raise CheckFailed(f"{detail}, but the test page failed: {exc}") from exc
        detail += f"; test page printed ({result.location})"
    return detail


def _writable(directory, what: str) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".selftest-"):
            pass
    except OSError as exc:
        raise CheckFailed(f"cannot write to the {what} {directory}: {exc.strerror or exc}") from exc


def printer_test_page(terminal_id: str) -> bytes:
    """One A4 page: a frame to see the margins, a grey scale, words in both languages."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from printouts.fonts import mincho
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    width, height = A4
    page.setTitle("Test page")
    page.rect(36, 36, width - 72, height - 72)
    page.setFont(mincho(), 28)
    page.drawCentredString(width / 2, height - 140, "テストページ  Test page")
    page.setFont(mincho(), 12)
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    page.drawCentredString(width / 2, height - 180, f"端末 Terminal {terminal_id}   {stamp}")
    for step in range(11):
        page.setFillGray(step / 10)
        page.rect(72 + step * 40, height - 280, 40, 40, fill=1, stroke=0)
    page.setFillGray(0)
    page.drawCentredString(width / 2, height - 320, "これは証明書ではありません。 This is not a certificate.")
    page.showPage()
    page.save()
    return buffer.getvalue()


def _receipt_printer(receipt_config) -> str:
    from devices.printer import PrinterError
    from kiosk.wiring import receipt_printer
    if receipt_config.kind == "folder":
        _writable(receipt_config.directory, "receipt folder")
        return f"receipts go as text files into {receipt_config.directory}, which is writable"
    printer = receipt_printer(receipt_config)
    try:
        status = printer.status(timeout=3.0)
    except PrinterError as exc:
        raise CheckFailed(f"the receipt printer does not answer: {exc}") from exc
    if status.cover_open:
        raise CheckFailed("the receipt printer's cover is open")
    if not status.paper_ok:
        raise CheckFailed("the receipt printer is out of paper")
    if status.error or not status.online:
        raise CheckFailed("the receipt printer reports an error (cutter jam or similar)"
                          if status.error else "the receipt printer is offline")
    if status.paper_near_end:
        return "online; paper near its end: change the roll soon"
    return "online, paper loaded"


# --- payment ---------------------------------------------------------------------

def _payment(payment_config, device) -> str:
    from devices.payment import PaymentError
    from kiosk.wiring import payment_device
    opened = device is None
    try:
        if opened:
            device = payment_device(payment_config)
        levels = device.hoppers()
    except PaymentError as exc:
        raise CheckFailed(f"the payment device does not answer: {exc}") from exc
    finally:
        if opened and device is not None:
            device.close()
    cash = ", ".join(f"{lv.denomination} yen × {lv.coins}{' (low)' if lv.low else ''}" for lv in levels)
    kind = "simulated payment device" if payment_config.kind == "simulated" else f"ccTalk on {payment_config.port}"
    return f"{kind} answers; change in the hoppers: {cash}"


def _journal(path) -> str:
    """Paid sessions are written there before any coin is taken: it must take writes."""
    _writable(path.absolute().parent, "paid-session journal's folder")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise CheckFailed(f"the paid-session journal {path} cannot be written")
    return f"the paid-session journal {path} can be written"


# --- issuance center and clock ---------------------------------------------------

def _center_health(config: KioskConfig) -> httpx.Response:
    iss = config.issuance
    try:
        tls = ssl.create_default_context(cafile=str(iss.ca_cert))
        tls.load_cert_chain(str(iss.client_cert), str(iss.client_key))
    except (OSError, ssl.SSLError) as exc:
        raise CheckFailed(f"cannot load the terminal certificate or the center's CA: {exc}") from exc
    try:
        with httpx.Client(verify=tls, timeout=iss.timeout_s) as client:
            return client.get(iss.url.rstrip("/") + API + "/health")
    except httpx.ConnectError as exc:
        raise CheckFailed(f"cannot connect to the issuance center at {iss.url}: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise CheckFailed(f"the issuance center at {iss.url} did not answer in {iss.timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise CheckFailed(f"the issuance center at {iss.url}: {type(exc).__name__}: {exc}") from exc


def _issuance_center(config: KioskConfig) -> str:
    response = _center_health(config)
    if response.status_code != 200:
        try:
            code = response.json().get("code", "no reason given")
        except ValueError:
            code = "no reason given"
        raise CheckFailed(f"the issuance center refused the terminal (HTTP {response.status_code}, {code})")
    detail = f"reachable at {config.issuance.url}; terminal certificate accepted"
    try:
        cert = x509.load_pem_x509_certificate(config.issuance.client_cert.read_bytes())
    except (OSError, ValueError):
        return detail
    expires = cert.not_valid_after_utc
    detail += f", valid until {expires:%Y-%m-%d}"
    if expires - dt.datetime.now(dt.timezone.utc) < CERT_EXPIRY_WARNING:
        detail += " (renew it soon)"
    return detail


def _clock(config: KioskConfig) -> str:
    """systemd-timesyncd or chrony tell timedated whether the clock is synchronised.
    Where nobody can tell (no systemd), the clock is compared with the center's."""
    try:
        run = subprocess.run(CLOCK_COMMAND, capture_output=True, text=True, timeout=4)
        answer = run.stdout.strip() if run.returncode == 0 else ""
        why = "timedatectl cannot tell: " + (run.stderr.strip().splitlines() or [f"exit status {run.returncode}"])[0]
    except FileNotFoundError:
        answer, why = "", "timedatectl is not installed"
    except subprocess.TimeoutExpired:
        answer, why = "", "timedatectl did not answer"
    if answer == "yes":
        return "synchronised with a time server (NTP)"
    if answer == "no":
        raise CheckFailed("not synchronised with a time server: check the network and "
                          "systemd-timesyncd or chrony")
    try:
        response = _center_health(config)
        server = email.utils.parsedate_to_datetime(response.headers["date"])
    except (CheckFailed, KeyError, TypeError, ValueError) as exc:
        raise CheckFailed(f"cannot tell whether the clock is synchronised: {why}, and the issuance "
                          f"center gave no time to compare with") from exc
    # The system clock itself, never a played one (kiosk.clock): that is what NTP keeps.
    offset = (dt.datetime.now(dt.timezone.utc) - server).total_seconds()
    if abs(offset) > MAX_CLOCK_OFFSET_S:
        raise CheckFailed(f"the clock is {offset:+.0f} s off the issuance center's ({why})")
    return f"within {max(1, round(abs(offset)))} s of the issuance center's clock ({why})"


__all__ = ["Check", "run_checks", "printer_test_page"]

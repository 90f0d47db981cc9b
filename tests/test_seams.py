"""Where the parts meet: what each one imports (the kiosk checking a certificate's pages
included), the one receipt printer interface, and the things defined in one place
(document titles, the missing-font error) or kept off the kiosk's path and held to
their source (the copy-evident backgrounds' digests, the way a day is written)."""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import inspect
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from babel.dates import format_skeleton
from cryptography.hazmat.primitives import serialization

from contract.documents import DOCUMENT_TITLES
from contract.issuance import (DOCUMENT_TYPES, DocumentOffer, DocumentOptions, Manifest, PageDigest,
                               sign_manifest)
from devices.printer import ReceiptPrinter, ReceiptPrinterStatus
from kiosk.binding import Expected
from kiosk.config import ReceiptPrinterConfig
from kiosk.i18n import LANGUAGES, translate
from kiosk.issuance_client import IssuedDocument
from kiosk.screens import DOCUMENT_NAMES, month_day
from kiosk.wiring import receipt_printer
from municipal.pki import STUB_ROOT_NAME, issue_municipal_signer, make_ca
from printouts import fictional_records as fictional
from printouts import fonts, pdf_pages
from printouts.anti_copy import background
from printouts.back_page import KNOCKOUTS as BACK_KNOCKOUTS
from printouts.certificate_page import FRONT_KNOCKOUTS
from printouts.certificates import render_certificate
from printouts.pdf_pages import page_digests
from printouts.receipt import Receipt, ReceiptLine

ROOT = Path(__file__).resolve().parent.parent
MODULES = "--- modules ---"  # what the child printed before this line came from its imports


def modules_after(code: str) -> tuple[str, set[str]]:
    """A fresh interpreter runs `code`; returns what it printed and every module loaded."""
    env = {k: v for k, v in os.environ.items() if k != "PYGAME_HIDE_SUPPORT_PROMPT"}  # pygame's banner shows
    code = f"import sys\n{code}\nprint({MODULES!r}, *sys.modules, sep='\\n')"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    printed, modules = run.stdout.split(MODULES + "\n")
    return printed, set(modules.split())


def modules_after_import(*names: str) -> tuple[str, set[str]]:
    return modules_after(f"import {', '.join(names)}")


def top_level(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] == package)


def test_the_state_machine_and_the_worker_import_without_pygame():
    """Nothing but the frame loop needs pygame: no banner for a tool or test that drives the machine."""
    printed, loaded = modules_after_import("kiosk.states", "kiosk.session_worker", "kiosk.wiring")
    assert top_level(loaded, "pygame") == []
    assert printed == ""


def test_the_kiosk_imports_no_part_of_the_stub():
    """A kiosk install runs without the issuance stub, the stub's fault names included."""
    _, loaded = modules_after_import("kiosk.cli", "kiosk.app", "kiosk.wiring", "kiosk.session_worker",
                                     "contract.issuance", "contract.documents")
    assert top_level(loaded, "municipal") == []


def test_the_kiosk_reads_document_titles_without_reportlab():
    _, loaded = modules_after_import("kiosk.screens", "kiosk.paid_issuance", "kiosk.wiring", "kiosk.cli")
    assert top_level(loaded, "reportlab") == []


def test_the_kiosk_checks_a_certificate_before_paper_without_the_renderer(tmp_path):
    """The binding check reads every page of a real certificate, its copy-evident
    background included, without loading the certificate renderer (reportlab,
    zxing-cpp, Pillow's drawing): ~9 MB the kiosk would otherwise keep all day."""
    pdf = render_certificate(fictional.residence_record(), fictional.verification_code(fictional.CERTIFICATION.serial))
    signer = issue_municipal_signer(make_ca(STUB_ROOT_NAME), "999001", "架空市")
    card_certificate = b"the card's authentication certificate"
    offer = DocumentOffer(type="residence_record", municipality="999001", fee_yen=200, available=True)
    manifest = Manifest(
        request_id="Q1", session_id="S1", terminal_id="KIOSK-0001",
        certificate_sha256=hashlib.sha256(card_certificate).hexdigest(), document_type="residence_record",
        options=DocumentOptions(), copies=1, fee_yen=200,
        pages=tuple(PageDigest(number=n, sha256=d) for n, d in enumerate(page_digests(pdf), 1)),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(), serial=fictional.CERTIFICATION.serial,
        issued_at="2026-11-23T00:00:00+00:00", municipality="999001",
        print_by=(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)).isoformat(timespec="seconds"))
    document = IssuedDocument(pdf, manifest, sign_manifest(manifest, signer.key))
    expected = Expected(card_certificate_der=card_certificate, session_id="S1", request_id="Q1",
                        terminal_id="KIOSK-0001", offer=offer, copies=1)
    handed = tmp_path / "document.pickle"
    handed.write_bytes(pickle.dumps((document, expected, signer.cert.public_bytes(serialization.Encoding.PEM))))

    printed, loaded = modules_after(
        "import pickle\nfrom cryptography import x509\nfrom kiosk.binding import check_binding\n"
        f"document, expected, signer = pickle.loads(open({str(handed)!r}, 'rb').read())\n"
        "check_binding(document, expected, {'999001': x509.load_pem_x509_certificate(signer)})\n"
        "print('bound')")
    assert printed == "bound\n"
    # (Pillow's Image module stays: pypdf imports it wherever Pillow is installed.)
    assert top_level(loaded, "reportlab") == top_level(loaded, "zxingcpp") == []


def test_the_kiosk_knows_the_renderer_s_backgrounds():
    """The kiosk recognises a page's copy-evident background by its length and digest
    (printouts.pdf_pages): they are those of the background the renderer draws."""
    drawn = [background(knockouts).encode() for knockouts in (FRONT_KNOCKOUTS, BACK_KNOCKOUTS)]
    assert [(len(b), hashlib.sha256(b).hexdigest()) for b in drawn] == list(pdf_pages.BACKGROUNDS)
    assert all(b.startswith(pdf_pages.BACKGROUND_OPENS) for b in drawn)


def test_the_closed_screen_names_its_days_without_babel_s_locale_data():
    """The closed screen in every language says when the service opens and which days
    it is closed without babel reading a language's whole data: ~4 MB of the kiosk's
    memory and ~7 ms of the frame that first drew it."""
    printed, _ = modules_after(
        "import babel.localedata as data\nread, load = [], data.load\n"
        "data.load = lambda name, *rest, **named: read.append(name) or load(name, *rest, **named)\n"
        "from kiosk.i18n import LANGUAGES\nfrom kiosk.screen_catalogue import YEAR_END_DAY, Walk\n"
        "views = [Walk(language, wall=YEAR_END_DAY).view() for language in LANGUAGES]\n"
        "print('screens:', *sorted({view.name for view in views}))\nprint('babel read:', *read)")
    assert printed.splitlines()[-2:] == ["screens: closed", "babel read:"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_screens_write_a_day_as_babel_does(language):
    """kiosk.screens keeps CLDR's way of writing a day in each language: it is babel's."""
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(366)]
    assert [month_day(language, day) for day in days] == [
        format_skeleton("MMMMd", day, locale=language.split("_")[0]) for day in days]


# --- one receipt printer interface -------------------------------------------------

def a_receipt() -> Receipt:
    return Receipt(store_name="架空みどり駅前店", store_number="012345", terminal_id="KIOSK-0001",
                   issued_at=dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.timezone.utc),
                   document_title=DOCUMENT_TITLES["seal_certificate"], copies=1, fee_yen=300, paid_yen=500,
                   change_yen=200, transaction_number="261124100000-AB12")


@pytest.fixture(params=["folder", "escpos"])
def configured_receipt_printer(request, tmp_path):
    """Each receipt printer a kiosk's configuration can name, as the kiosk builds it."""
    if request.param == "folder":
        return receipt_printer(ReceiptPrinterConfig(kind="folder", directory=tmp_path / "receipts"))
    emulator = request.getfixturevalue("receipt_emulator")
    return receipt_printer(ReceiptPrinterConfig(kind="escpos", port=emulator.tty_path))


def test_every_receipt_printer_answers_the_receipt_the_slip_and_the_self_test(configured_receipt_printer):
    """The receipt (kiosk.paid_issuance), a staff slip (kiosk.maintenance) and the status
    (kiosk.device_checks, the staff screens) are asked of whichever printer is configured."""
    printer = configured_receipt_printer
    assert isinstance(printer, ReceiptPrinter)
    slip = [ReceiptLine("回収票", bold=True), ReceiptLine("¥1,300")]
    for status in (printer.print_receipt(a_receipt(), timeout=20.0), printer.print_lines(slip, timeout=20.0),
                   printer.status(timeout=3.0)):
        assert isinstance(status, ReceiptPrinterStatus) and status.paper_ok and not status.cover_open
    assert printer.printer_status(timeout=3.0).ready


@pytest.mark.parametrize("implementation", ["devices.printer.receipt_folder:FolderReceiptPrinter",
                                            "devices.printer.escpos_receipt:EscposReceiptPrinter"])
def test_receipt_printers_take_the_interfaces_arguments(implementation):
    """Same parameter names, kinds and defaults as the interface, so a caller written
    against it (timeout by keyword, its default) works with every driver."""
    module, name = implementation.split(":")
    driver = getattr(importlib.import_module(module), name)
    for method in ("status", "print_receipt", "print_lines", "printer_status"):
        interface = parameters(getattr(ReceiptPrinter, method))
        assert parameters(getattr(driver, method)) == interface, f"{name}.{method}"


def parameters(method) -> list[tuple]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()]


# --- one place each ------------------------------------------------------------------

def test_every_document_type_has_one_title_and_the_japanese_screen_shows_it():
    """What the resident picks on the Japanese screen is what the certificate and the
    receipt are titled."""
    assert set(DOCUMENT_TITLES) == set(DOCUMENT_TYPES) == set(DOCUMENT_NAMES)
    assert {t: translate("ja", DOCUMENT_NAMES[t]) for t in DOCUMENT_TYPES} == DOCUMENT_TITLES


def test_one_error_for_a_missing_font_on_screen_and_on_paper(monkeypatch, tmp_path):
    """A missing font package is one error to catch, whichever part needs it."""
    from kiosk import fonts as screen_fonts

    monkeypatch.setattr(screen_fonts, "FACES", {face: (tmp_path / "none.ttf",) for face in screen_fonts.FACES})
    screen_fonts.face_path.cache_clear()
    screen_fonts.face_for.cache_clear()
    try:
        with pytest.raises(fonts.FontMissing, match="fonts-ipaexfont-gothic"):
            screen_fonts.face_for("住民票", "ja")
    finally:
        screen_fonts.face_path.cache_clear()
        screen_fonts.face_for.cache_clear()


def test_the_receipt_emulator_finds_the_gothic_font_where_certificates_do(monkeypatch, tmp_path):
    from devices.printer.escpos_emulator import EscposEmulator

    monkeypatch.setattr(fonts, "GOTHIC_PATH", tmp_path / "ipaexg.ttf")
    with pytest.raises(fonts.FontMissing, match="fonts-ipaexfont-gothic"):
        EscposEmulator()

"""Where the parts meet: what each one imports, the one receipt printer interface, and
the things defined in one place (document titles, the missing-font error)."""
from __future__ import annotations

import datetime as dt
import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contract.documents import DOCUMENT_TITLES
from contract.issuance import DOCUMENT_TYPES
from devices.printer import ReceiptPrinter, ReceiptPrinterStatus
from kiosk.config import ReceiptPrinterConfig
from kiosk.i18n import translate
from kiosk.screens import DOCUMENT_NAMES
from kiosk.wiring import receipt_printer
from printouts import fonts
from printouts.receipt import Receipt, ReceiptLine

ROOT = Path(__file__).resolve().parent.parent
MODULES = "--- modules ---"  # what the child printed before this line came from its imports


def modules_after_import(*names: str) -> tuple[str, set[str]]:
    """A fresh interpreter imports `names`; returns what they printed and every module loaded."""
    env = {k: v for k, v in os.environ.items() if k != "PYGAME_HIDE_SUPPORT_PROMPT"}  # pygame's banner shows
    code = f"import sys\nimport {', '.join(names)}\nprint({MODULES!r}, *sys.modules, sep='\\n')"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    printed, modules = run.stdout.split(MODULES + "\n")
    return printed, set(modules.split())


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

"""The thermal receipt: its layout, and the ESC/POS driver against the emulator on a real pty."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import subprocess
import sys
import time

import pytest

from devices.printer import PrinterUnavailable, PrintJobTimedOut
from devices.printer.escpos_receipt import (
    CoverOpen,
    EscposReceiptPrinter,
    PaperOut,
    PrinterOffline,
    ProtocolError,
    job_bytes,
)
from printouts import fictional_records
from printouts.receipt import COLUMNS, Receipt, cells, receipt_lines
from tests.fixtures.cards import TEST_HOLDER


def sample_receipt(**changes) -> Receipt:
    receipt = Receipt(
        store_name="ファミリーマート架空みどり駅前店",
        store_number="012345",
        terminal_id="KIOSK-01",
        issued_at=dt.datetime(2026, 11, 23, 1, 23, 45, tzinfo=dt.timezone.utc),
        document_title="住民票の写し",
        copies=1,
        fee_yen=200,
        paid_yen=1000,
        change_yen=800,
        transaction_number="T20261123-000123",
    )
    return dataclasses.replace(receipt, **changes)


def text_of(receipt: Receipt) -> list[str]:
    return [line.text for line in receipt_lines(receipt)]


# -- layout ----------------------------------------------------------------------------


def test_receipt_shows_the_purchase_in_jst_with_yen_amounts():
    text = "\n".join(text_of(sample_receipt()))

    for expected in ("ファミリーマート架空みどり駅前店", "店舗番号 012345", "端末 KIOSK-01",
                     "2026年11月23日(月) 10:23:45", "住民票の写し", "1通", "¥200", "¥1,000", "¥800",
                     "T20261123-000123"):
        assert expected in text
    assert "¥12,345" in "\n".join(text_of(sample_receipt(fee_yen=12_345, paid_yen=20_000, change_yen=7_655)))


def test_every_line_fits_the_roll():
    long = sample_receipt(store_name="架空" * 30, transaction_number="T" * 40)
    for line in receipt_lines(long):
        assert cells(line.text) <= (COLUMNS // 2 if line.double else COLUMNS), line


def test_receipt_holds_no_personal_data():
    assert {f.name for f in dataclasses.fields(Receipt)} == {
        "store_name", "store_number", "terminal_id", "issued_at", "document_title", "copies",
        "fee_yen", "paid_yen", "change_yen", "transaction_number",
    }
    text = "\n".join(text_of(sample_receipt()))
    resident = fictional_records.residence_record()
    for personal in (TEST_HOLDER["name"], TEST_HOLDER["address"], TEST_HOLDER["my_number"],
                     resident.address, fictional_records.TARO.name, "山田", "やまだ"):
        assert personal not in text


@pytest.mark.parametrize("changes, message", [
    ({"store_name": "髙島屋前店"}, "'髙' (U+9AD9)"),
    ({"change_yen": 700}, "change ¥700 is not paid ¥1,000 minus fee ¥200"),
    ({"paid_yen": 100, "change_yen": -100}, "does not cover the fee"),
    ({"issued_at": dt.datetime(2026, 11, 23, 10, 23)}, "timezone-aware"),
])
def test_a_receipt_that_cannot_be_right_is_refused(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        sample_receipt(**changes)


def test_japanese_goes_out_in_shift_jis_in_kanji_mode():
    job = job_bytes(receipt_lines(sample_receipt()))

    assert b"\x1bR\x08\x1bt\x01\x1cC\x01\x1c&" in job  # Japan charset, Katakana page, Shift_JIS, Kanji on
    assert "住民票の写し".encode("shift_jis") in job
    assert b"\x5c200" in job  # ¥ is 0x5C under the Japan character set
    assert job.endswith(b"\x1dV\x01")  # partial cut


# -- driver and emulator over the pty --------------------------------------------------


def test_a_receipt_prints_on_the_emulators_paper(receipt_emulator, tmp_path):
    receipt = sample_receipt()

    after = EscposReceiptPrinter(receipt_emulator.tty_path).print_receipt(receipt, timeout=20)

    assert after.online and after.paper_ok and not after.paper_near_end
    assert receipt_emulator.receipts == [text_of(receipt)]  # every character decoded back, then cut
    assert receipt_emulator.errors == []
    receipt_emulator.save(tmp_path / "receipt.png")
    paper = receipt_emulator.paper_image()
    assert paper.width == 552 and paper.height > 400
    assert paper.getextrema() == (0, 255)  # black print on white paper
    assert (tmp_path / "receipt.txt").read_text(encoding="utf-8").splitlines() == text_of(receipt)


def test_near_end_is_reported_but_prints(receipt_emulator):
    receipt_emulator.set_paper_near_end()
    printer = EscposReceiptPrinter(receipt_emulator.tty_path)

    assert printer.status().paper_near_end
    assert printer.print_receipt(sample_receipt(), timeout=20).paper_near_end
    assert len(receipt_emulator.receipts) == 1


@pytest.mark.parametrize("fault, error", [
    ("run_out_of_paper", PaperOut),
    ("open_cover", CoverOpen),
    ("jam_cutter", PrinterOffline),
])
def test_a_stopped_printer_is_refused_before_printing(receipt_emulator, fault, error):
    getattr(receipt_emulator, fault)()

    with pytest.raises(error, match="nothing was printed") as raised:
        EscposReceiptPrinter(receipt_emulator.tty_path).print_receipt(sample_receipt(), timeout=20)

    assert not raised.value.during_job
    assert receipt_emulator.lines == []


@pytest.mark.parametrize("fault, error, fix", [
    ("run_out_of_paper", PaperOut, "load_paper"),
    ("open_cover", CoverOpen, "close_cover"),
])
def test_a_printer_stopping_mid_job_fails_the_job(receipt_emulator, fault, error, fix):
    getattr(receipt_emulator, fault)(after_lines=3)

    with pytest.raises(error, match="incomplete") as raised:
        EscposReceiptPrinter(receipt_emulator.tty_path).print_receipt(sample_receipt(), timeout=20)

    assert raised.value.during_job
    assert len(receipt_emulator.lines) == 3 and receipt_emulator.receipts == []
    # Like a real printer, it held the rest and finishes it once fixed.
    getattr(receipt_emulator, fix)()
    assert receipt_emulator.receipts == [text_of(sample_receipt())]


@pytest.mark.parametrize("after_lines", [0, 3], ids=["before the job", "mid-job"])
def test_a_silent_printer_times_out_instead_of_hanging(receipt_emulator, after_lines):
    receipt_emulator.go_silent(after_lines=after_lines)
    started = time.monotonic()

    with pytest.raises(PrintJobTimedOut, match="did not answer"):
        EscposReceiptPrinter(receipt_emulator.tty_path).print_receipt(sample_receipt(), timeout=2)

    assert time.monotonic() - started < 2 + 10  # the timeout, plus slack for a loaded machine
    assert len(receipt_emulator.lines) == after_lines


def test_a_garbage_status_byte_is_a_protocol_error_naming_it(receipt_emulator):
    receipt_emulator.answer_next_status_with(b"\xa5")

    with pytest.raises(ProtocolError, match="DLE EOT 1 with byte 0xA5"):
        EscposReceiptPrinter(receipt_emulator.tty_path).print_receipt(sample_receipt(), timeout=20)

    assert receipt_emulator.lines == []


def test_a_missing_port_is_unavailable(tmp_path):
    with pytest.raises(PrinterUnavailable, match="cannot open receipt printer port"):
        EscposReceiptPrinter(str(tmp_path / "ttyUSB9")).status(timeout=1)


def test_the_emulator_command_line_prints_and_saves_the_paper(tmp_path):
    out = tmp_path / "paper.png"
    emulator = subprocess.Popen([sys.executable, "-m", "devices.printer.escpos_emulator", "--out", str(out)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        tty_path = emulator.stdout.readline().strip()
        EscposReceiptPrinter(tty_path).print_receipt(sample_receipt(), timeout=20)
        stdout, _ = emulator.communicate("quit\n", timeout=30)
    finally:
        emulator.kill()
    assert f"paper saved to {out}" in stdout
    assert out.with_suffix(".txt").read_text(encoding="utf-8").splitlines() == text_of(sample_receipt())


def test_the_emulator_command_line_has_help():
    run = subprocess.run([sys.executable, "-m", "devices.printer.escpos_emulator", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "pseudo-terminal" in run.stdout

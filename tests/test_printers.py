"""Document printer drivers: FolderPrinter on disk, CupsPrinter through real cupsd."""
from __future__ import annotations

import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from devices.printer import (
    CupsPrinter,
    FolderPrinter,
    PrinterUnavailable,
    PrintJobFailed,
    PrintJobTimedOut,
    open_printer,
)
from printouts.pdf_pages import count_pages
from printouts import fictional_records
from printouts.residence_record import CERTIFYING_SENTENCES, render_residence_record


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def certificate() -> bytes:
    return render_residence_record(fictional_records.residence_record(), fictional_records.verification_code())


def test_folder_printer_writes_each_copy_as_a_pdf(tmp_path, certificate):
    result = FolderPrinter(tmp_path).print_pdf(certificate, title="jumin", copies=3)

    written = sorted(tmp_path.iterdir())
    assert [p.name.split(result.job_id)[1] for p in written] == ["-copy1.pdf", "-copy2.pdf", "-copy3.pdf"]
    pages = len(PdfReader(BytesIO(certificate)).pages)
    for path in written:
        assert path.read_bytes() == certificate
    assert (result.pages, result.copies, result.location) == (pages, 3, str(written[0]))


def test_folder_printer_never_overwrites(tmp_path, certificate):
    printer = FolderPrinter(tmp_path)
    first = printer.print_pdf(certificate, title="jumin")
    second = printer.print_pdf(certificate, title="jumin")
    assert first.location != second.location
    assert len(list(tmp_path.iterdir())) == 2  # and no temp files left behind


def test_folder_printer_creates_its_directory(tmp_path, certificate):
    FolderPrinter(tmp_path / "out" / "today").print_pdf(certificate, title="jumin")
    assert len(list((tmp_path / "out" / "today").iterdir())) == 1


def test_unwritable_folder_is_unavailable(tmp_path, certificate):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")  # a file where the folder should be stops even root
    with pytest.raises(PrinterUnavailable):
        FolderPrinter(blocker / "out").print_pdf(certificate, title="jumin")


def test_count_pages_of_a_multi_page_pdf():
    buffer = BytesIO()
    canvas = Canvas(buffer)
    for _ in range(3):
        canvas.drawString(72, 720, "page")
        canvas.showPage()
    canvas.save()
    assert count_pages(buffer.getvalue()) == 3


def test_open_printer_by_kind(tmp_path):
    assert isinstance(open_printer("folder", directory=tmp_path), FolderPrinter)
    assert isinstance(open_printer("cups", queue="KioskPDF"), CupsPrinter)
    with pytest.raises(ValueError, match="unknown printer kind"):
        open_printer("fax")


def test_cupsd_not_running_is_unavailable():
    # libcups caches the server per thread, so point a fresh process at a dead socket.
    script = (
        "from devices.printer import CupsPrinter, PrinterUnavailable\n"
        "try:\n    CupsPrinter('KioskPDF').print_pdf(b'%PDF', title='t')\n"
        "except PrinterUnavailable as exc:\n    print('unavailable:', exc)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                         cwd=Path(__file__).resolve().parents[1],
                         env={"CUPS_SERVER": "/nonexistent/cups.sock", "PATH": "/usr/bin:/bin"})
    assert run.stdout.startswith("unavailable:"), run.stderr


@pytest.mark.cups
def test_cups_job_completes_into_a_pdf_with_the_certificate_text(cups_queue, certificate):
    result = CupsPrinter(cups_queue.name).print_pdf(certificate, title="jumin-MD-2026-000123", timeout=60)

    assert (result.pages, result.copies) == (len(PdfReader(BytesIO(certificate)).pages), 1)
    assert result.location == f"cups:{cups_queue.name}/{result.job_id}"
    output = cups_queue.output_of(result.job_id)
    text = squeeze(subprocess.run(["pdftotext", str(output), "-"], capture_output=True, text=True,
                                  check=True).stdout)
    # cups-pdf's Ghostscript turns some ASCII glyphs (the serial's digits) into a Type 3
    # font without a ToUnicode map: they print, but pdftotext cannot read them back, so
    # the serial is checked in the renderer's own tests, not here.
    for expected in ("住民票の写し", "山田太郎", "山田花子", "令和8年11月23日", CERTIFYING_SENTENCES["copy"]):
        assert expected in text


@pytest.mark.cups
def test_stopped_cups_queue_is_unavailable(cups_queue, certificate):
    subprocess.run(["cupsdisable", "-r", "test: paper jam", cups_queue.name], check=True)
    try:
        with pytest.raises(PrinterUnavailable, match="paper jam"):
            CupsPrinter(cups_queue.name).print_pdf(certificate, title="stopped")
    finally:
        subprocess.run(["cupsenable", cups_queue.name], check=True)


@pytest.mark.cups
def test_missing_cups_queue_is_unavailable(cups_queue, certificate):
    with pytest.raises(PrinterUnavailable, match="no CUPS queue"):
        CupsPrinter("NoSuchKioskQueue").print_pdf(certificate, title="missing")


@pytest.mark.cups
def test_cups_filter_failure_fails_the_job(cups_queue):
    with pytest.raises(PrintJobFailed, match="filter"):
        CupsPrinter(cups_queue.name).print_pdf(b"%PDF-1.4\nnot really a pdf\n", title="broken", timeout=30)


@pytest.fixture
def unreachable_queue(cups_queue):
    """A queue whose socket backend retries a closed port forever: jobs never finish."""
    name = "KioskUnreachable"
    subprocess.run(["lpadmin", "-p", name, "-E", "-v", "socket://127.0.0.1:9", "-m", "raw"],
                   check=True, capture_output=True)
    yield name
    subprocess.run(["lpadmin", "-x", name], check=True)


@pytest.mark.cups
def test_cups_job_past_its_timeout_is_cancelled(unreachable_queue, certificate):
    with pytest.raises(PrintJobTimedOut):
        CupsPrinter(unreachable_queue).print_pdf(certificate, title="late", timeout=1.0)
    pending = subprocess.run(["lpstat", "-o", unreachable_queue], capture_output=True, text=True).stdout
    assert pending == ""

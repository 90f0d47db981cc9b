"""Document printer drivers: FolderPrinter on disk, CupsPrinter through real cupsd."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from devices.printer import (
    CupsPrinter,
    FolderPrinter,
    JobState,
    OutOfPaper,
    PaperState,
    PrinterUnavailable,
    PrintJobCancelled,
    PrintJobFailed,
    PrintJobTimedOut,
    SheetPrinter,
    open_printer,
)
from printouts.pdf_pages import count_pages
from printouts import fictional_records
from printouts.residence_record import CERTIFYING_SENTENCES, render_residence_record
from tests.fixtures.printers import wait_until_idle


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def certificate() -> bytes:
    return render_residence_record(fictional_records.residence_record(), fictional_records.verification_code()).pdf


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
    simulated = open_printer("simulated", paper=3)
    assert isinstance(simulated, SheetPrinter) and simulated.status().sheets_left == 3
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


# --- the simulated sheet printer and the folder printer's paper --------------------

@pytest.fixture(scope="module")
def long_certificate() -> bytes:
    """Three sheets: fronts and backs of a household of eleven."""
    record = fictional_records.residence_record(members=fictional_records.large_household(11))
    return render_residence_record(record, fictional_records.verification_code()).pdf


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_sheets_come_out_one_by_one_and_are_reported(certificate):
    printer = SheetPrinter(paper=100)
    pages = count_pages(certificate)
    seen = []
    result = printer.print_pdf(certificate, title="jumin", copies=2, on_sheet=lambda n, of: seen.append((n, of)))
    sheets = (pages + 1) // 2 * 2
    assert seen == [(n, sheets) for n in range(1, sheets + 1)]
    assert printer.status().sheets_left == 100 - sheets
    assert [(o.copy, o.complete, o.pages) for o in printer.outputs] == [
        (1, True, list(range(pages))), (2, True, list(range(pages)))]
    assert printer.job_status(result.job_id).state is JobState.COMPLETED


def test_paper_running_out_mid_job_stops_it_with_what_came_out(tmp_path, long_certificate, certificate):
    printer = FolderPrinter(tmp_path, paper=1)
    with pytest.raises(OutOfPaper) as raised:
        printer.print_pdf(long_certificate, title="jumin", copies=1, timeout=10)
    assert raised.value.sheets_out == 1
    (partial,) = tmp_path.iterdir()
    assert partial.name.endswith("-copy1-partial.pdf")
    assert count_pages(partial.read_bytes()) == 2  # the front and back of the one sheet out
    status = printer.status()
    assert (status.ready, status.paper) == (False, PaperState.OUT)
    with pytest.raises(PrinterUnavailable, match="out of paper"):
        printer.print_pdf(certificate, title="jumin")  # refused before any sheet moves
    printer.load_paper(50)
    printer.print_pdf(certificate, title="jumin")
    assert len([p for p in tmp_path.iterdir() if not p.name.endswith("partial.pdf")]) == 1


def test_a_cancelled_job_stops_between_sheets(certificate):
    printer = SheetPrinter(seconds_per_sheet=0.2)
    job = printer.submit(certificate, title="jumin", copies=3)
    wait_for(lambda: printer.job_status(job).sheets_out >= 1)
    printer.cancel(job)
    out = printer.job_status(job).sheets_out
    wait_until_idle(printer)  # the job's thread has ended: no sheet of it can still come out
    status = printer.job_status(job)
    assert status.state is JobState.CANCELLED and isinstance(status.error, PrintJobCancelled)
    assert status.sheets_out == out < status.sheets


def test_a_stalled_printer_times_out_and_the_job_is_cancelled_whole(certificate):
    printer = SheetPrinter()
    printer.stall()
    with pytest.raises(PrintJobTimedOut) as raised:
        printer.print_pdf(certificate, title="jumin", timeout=0.3)
    assert raised.value.sheets_out == 0
    printer.stall(False)
    wait_until_idle(printer)
    assert printer.outputs == []  # the printer woke up, and printed nothing of it


def test_a_jam_fails_the_job(certificate):
    printer = SheetPrinter()
    printer.jam_after(1)
    with pytest.raises(PrintJobFailed, match="jam") as raised:
        printer.print_pdf(certificate, title="jumin", copies=2)
    assert raised.value.sheets_out == 1


def test_paper_near_end_is_reported_while_still_ready():
    status = SheetPrinter(paper=5).status()
    assert (status.ready, status.paper, status.sheets_left) == (True, PaperState.NEAR_END, 5)
    assert SheetPrinter().status().paper is PaperState.OK


# --- CUPS: job states followed, faults as typed errors ------------------------------

@pytest.mark.cups
def test_cups_job_is_followed_through_its_states_to_completion(socket_queue, certificate):
    printer = CupsPrinter(socket_queue.name)
    job = printer.submit(certificate, title="followed", copies=1)
    states = []
    deadline = time.monotonic() + 30
    while not (status := printer.job_status(job)).state.finished:
        states.append(status.state)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status.state is JobState.COMPLETED and status.sheets_out == status.sheets > 0
    assert set(states) <= {JobState.PENDING, JobState.PRINTING}
    wait_for(lambda: socket_queue.printer.received)
    assert socket_queue.printer.received == [certificate]  # a raw queue: the printer got the PDF as issued


@pytest.mark.cups
def test_cups_job_cancelled_at_the_printer_is_a_cancelled_error(socket_queue, certificate):
    socket_queue.printer.hold.set()
    printer = CupsPrinter(socket_queue.name)

    def clerk_cancels_when_printing():
        job_id = None
        deadline = time.monotonic() + 20
        while job_id is None and time.monotonic() < deadline:
            jobs = subprocess.run(["lpstat", "-o", socket_queue.name], capture_output=True, text=True).stdout
            job_id = jobs.split()[0] if jobs.strip() else None
            time.sleep(0.1)
        subprocess.run(["cancel", job_id], check=True)

    clerk = threading.Thread(target=clerk_cancels_when_printing)
    clerk.start()
    with pytest.raises(PrintJobCancelled, match="cancelled"):
        printer.print_pdf(certificate, title="cancelled", timeout=30)
    clerk.join()
    assert socket_queue.printer.received == []


@pytest.mark.cups
def test_cups_queue_stopped_mid_job_cancels_it_whole(socket_queue, certificate, long_certificate):
    socket_queue.printer.hold.set()
    printer = CupsPrinter(socket_queue.name)
    job = printer.submit(certificate, title="stopped-mid-job")
    wait_for(lambda: printer.job_status(job).state is JobState.PRINTING, timeout=20)
    subprocess.run(["cupsdisable", "-r", "test: paper jam", socket_queue.name], check=True)
    try:
        status = printer.job_status(job)
        assert status.state is JobState.STOPPED and isinstance(status.error, PrinterUnavailable)
        assert "is stopped" in str(status.error)  # the reason given may be overwritten by the backend's
        assert not printer.status().ready
        printer.cancel(job)
        assert printer.job_status(job).state is JobState.CANCELLED
    finally:
        subprocess.run(["cupsenable", socket_queue.name], check=True)
    # Re-enabled, the queue takes its jobs in order: had the cancelled one survived, it
    # would reach the printer before a later job does.
    socket_queue.printer.hold.clear()
    printer.print_pdf(long_certificate, title="after-the-stop", timeout=30)
    wait_for(lambda: socket_queue.printer.received, timeout=20)
    assert socket_queue.printer.received == [long_certificate]  # the cancelled job never printed


# --- the receipt printer in the same vocabulary ------------------------------------

def test_receipt_printer_status_in_the_document_printers_terms(receipt_emulator):
    from devices.printer.escpos_receipt import EscposReceiptPrinter, PaperOut

    printer = EscposReceiptPrinter(receipt_emulator.tty_path)
    assert printer.printer_status() == printer.printer_status().__class__(True, PaperState.OK, message="")
    receipt_emulator.set_paper_near_end()
    near = printer.printer_status()
    assert (near.ready, near.paper) == (True, PaperState.NEAR_END)
    receipt_emulator.run_out_of_paper()
    out = printer.printer_status()
    assert (out.ready, out.paper) == (False, PaperState.OUT) and "paper out" in out.message
    receipt_emulator.load_paper()
    receipt_emulator.go_silent()
    silent = printer.printer_status(timeout=0.5)
    assert (silent.ready, silent.paper) == (False, PaperState.UNKNOWN)
    assert issubclass(PaperOut, OutOfPaper)  # a kiosk catching OutOfPaper catches the receipt's too


def test_a_long_running_printer_forgets_old_finished_jobs(certificate):
    printer = SheetPrinter()
    first = printer.print_pdf(certificate, title="first").job_id
    for _ in range(20):
        last = printer.print_pdf(certificate, title="more").job_id
    assert printer.job_status(last).state is JobState.COMPLETED
    with pytest.raises(PrinterUnavailable, match="no job"):
        printer.job_status(first)

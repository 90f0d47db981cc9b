"""The one interface every document printer driver offers the kiosk.

A job is submitted (a document and its copies), followed by its state, and can be
cancelled; the printer reports its own status, paper included. `print_pdf` does all
of it for a caller that just waits: submit, follow to the end, cancel whole on the
time limit. Drivers do blocking I/O: the kiosk calls them from a worker thread, never
from the frame loop.

A job that did not complete raises a PrinterError whose `sheets_out` says how many
sheets had already left the printer (0: nothing did, or nobody can tell); the kiosk
voids the document either way, so no page of it is a valid certificate.

Beside it, `ReceiptPrinter`: the one interface of the thermal receipt printer (or the
folder that stands in for it), for the receipt, the staff's slips and the self-test.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

if TYPE_CHECKING:
    from printouts.receipt import Receipt, ReceiptLine


class PrinterError(Exception):
    """A print job did not complete. `reason` is a short machine-readable code."""

    reason = "printer_error"

    def __init__(self, message: str, *, sheets_out: int = 0):
        super().__init__(message)
        self.sheets_out = sheets_out


class PrinterUnavailable(PrinterError):
    reason = "printer_unavailable"  # queue stopped/missing, folder not writable


class PrintJobFailed(PrinterError):
    reason = "job_failed"  # the job was aborted or a filter failed


class PrintJobCancelled(PrinterError):
    reason = "job_cancelled"  # cancelled by the kiosk or at the printer (lprm, a clerk)


class PrintJobTimedOut(PrinterError):
    reason = "job_timed_out"  # the job was cancelled whole after the time limit


class OutOfPaper(PrinterError):
    reason = "paper_out"  # the paper ran out; `sheets_out` sheets of the job came out first


class JobState(Enum):
    PENDING = "pending"  # queued, not started
    PRINTING = "printing"
    COMPLETED = "completed"  # every sheet of every copy is out
    STOPPED = "stopped"  # held by the printer (paper out, filter failed); `error` says why
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobState.COMPLETED, JobState.CANCELLED, JobState.FAILED)


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    state: JobState
    sheets_out: int | None  # None when the printer does not say (CUPS)
    sheets: int  # of the whole job, all copies
    error: PrinterError | None = None  # why it is STOPPED, CANCELLED or FAILED


class PaperState(Enum):
    OK = "ok"
    NEAR_END = "near_end"  # still printing; a clerk should refill soon
    OUT = "out"
    UNKNOWN = "unknown"  # the printer does not report it (CUPS through a PDF backend)


@dataclass(frozen=True)
class PrinterStatus:
    ready: bool  # a job submitted now would start printing
    paper: PaperState
    sheets_left: int | None = None  # when the printer counts them
    message: str = ""  # what is wrong, for the log and the staff screen


@dataclass(frozen=True)
class PrintResult:
    job_id: str
    pages: int
    copies: int
    location: str  # where the output went: a file path, or "cups:<queue>/<id>"


def pages_of(pdf: bytes) -> int:
    """Pages of the PDF, or 0 if it cannot be read (the printer's filter will say why)."""
    from printouts.pdf_pages import UnreadablePdf, count_pages  # pypdf only when printing

    try:
        return count_pages(pdf)
    except UnreadablePdf:
        return 0


def sheets_of(pages: int) -> int:
    """Sheets of one copy: certificates print duplex, a back after each front."""
    return (pages + 1) // 2


class DocumentPrinter(ABC):
    poll_interval_s = 0.2  # between job-state queries while print_pdf waits

    @abstractmethod
    def submit(self, pdf: bytes, *, title: str, copies: int = 1) -> str:
        """Queue `copies` of `pdf` as one job; returns its id. Raises PrinterUnavailable
        if the printer cannot take it now."""

    @abstractmethod
    def job_status(self, job_id: str) -> JobStatus: ...

    @abstractmethod
    def cancel(self, job_id: str) -> None:
        """Cancel the whole job; sheets not yet out never come out."""

    @abstractmethod
    def status(self) -> PrinterStatus: ...

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1, timeout: float = 120.0,
                  on_sheet: Callable[[int, int], None] | None = None) -> PrintResult:
        """Print and follow the job to its end: `on_sheet(sheets_out, sheets)` as sheets
        come out (where the printer tells). A stopped job is cancelled whole, as is one
        past `timeout`; both raise, like a cancelled or failed one."""
        if copies < 1:
            raise ValueError("copies must be at least 1")
        deadline = time.monotonic() + timeout
        job_id = self.submit(pdf, title=title, copies=copies)
        pages = pages_of(pdf)
        reported = 0
        while True:
            job = self.job_status(job_id)
            if on_sheet and job.sheets_out is not None and job.sheets_out > reported:
                for sheet in range(reported + 1, job.sheets_out + 1):
                    on_sheet(sheet, job.sheets)
                reported = job.sheets_out
            if job.state is JobState.COMPLETED:
                return PrintResult(job_id, pages, copies, self.location_of(job_id))
            if job.state in (JobState.CANCELLED, JobState.FAILED):
                raise job.error or PrintJobFailed(f"job {job_id} ended {job.state.value}",
                                                   sheets_out=job.sheets_out or 0)
            if job.state is JobState.STOPPED:
                # A stopped job would resume by itself once fixed, long after the resident
                # left: cancel it whole instead.
                self.cancel(job_id)
                raise job.error or PrintJobFailed(f"job {job_id} stopped", sheets_out=job.sheets_out or 0)
            if time.monotonic() >= deadline:
                self.cancel(job_id)
                out = self.job_status(job_id).sheets_out or 0
                raise PrintJobTimedOut(f"job {job_id} not done after {timeout:g}s; cancelled", sheets_out=out)
            time.sleep(self.poll_interval_s)

    def location_of(self, job_id: str) -> str:
        return job_id


@dataclass(frozen=True)
class ReceiptPrinterStatus:
    online: bool
    paper_ok: bool
    paper_near_end: bool  # still printing; tell the clerk to change the roll soon
    cover_open: bool
    error: bool  # cutter error, unrecoverable or auto-recoverable error (ESC/POS DLE EOT 3)

    def as_printer_status(self) -> PrinterStatus:
        """In the document printers' vocabulary, for the kiosk and the staff screens."""
        paper = (PaperState.OUT if not self.paper_ok else PaperState.NEAR_END if self.paper_near_end
                 else PaperState.OK)
        problems = [text for bad, text in ((self.cover_open, "cover open"), (not self.paper_ok, "paper out"),
                                           (self.error, "error (cutter jam or similar)"),
                                           (not self.online, "offline")) if bad]
        return PrinterStatus(not problems, paper, message=", ".join(problems))


@runtime_checkable
class ReceiptPrinter(Protocol):
    """A receipt printer: the resident's receipt (kiosk.paid_issuance), the staff's slips
    (kiosk.maintenance), its status (kiosk.device_checks). Every call blocks until the
    paper is out or `timeout` has passed, so it runs on a worker thread; a failure raises
    a PrinterError. Drivers subclass it: what they must define is abstract."""

    @abstractmethod
    def status(self, timeout: float = 3.0) -> ReceiptPrinterStatus:
        """Raises a PrinterError if the printer does not answer."""

    @abstractmethod
    def print_receipt(self, receipt: Receipt, *, timeout: float = 30.0) -> ReceiptPrinterStatus:
        """Print and cut one receipt; returns the status after it (near end is no error)."""

    @abstractmethod
    def print_lines(self, lines: list[ReceiptLine], *, timeout: float = 30.0) -> ReceiptPrinterStatus:
        """Any slip laid out as receipt lines (a staff cash collection slip), like a receipt."""

    def printer_status(self, timeout: float = 3.0) -> PrinterStatus:
        """status() as the document printers report theirs; silence is not ready."""
        try:
            return self.status(timeout).as_printer_status()
        except PrinterError as exc:
            return PrinterStatus(False, PaperState.UNKNOWN, message=str(exc))

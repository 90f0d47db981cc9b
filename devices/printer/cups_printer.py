"""CupsPrinter: prints through a local cupsd queue with pycups and follows the job.

A pycups Connection is not safe to share between threads, so every call opens its
own. CUPS reports a job's state, not its sheets: `sheets_out` stays None until the job
completes, and the paper state comes from the queue's printer-state-reasons.
"""
from __future__ import annotations

import tempfile

import cups

from devices.printer.base import (
    DocumentPrinter,
    JobState,
    JobStatus,
    OutOfPaper,
    PaperState,
    PrinterError,
    PrinterStatus,
    PrinterUnavailable,
    PrintJobCancelled,
    PrintJobFailed,
    pages_of,
    sheets_of,
)

_FILTER_FAILED = "job-completed-with-errors"  # job-state-reasons of a job stopped by its filter
_PRINTER_ATTRIBUTES = ["printer-state", "printer-state-message", "printer-state-reasons",
                       "printer-is-accepting-jobs"]
_JOB_ATTRIBUTES = ["job-state", "job-state-reasons", "job-printer-state-message", "copies",
                   "job-impressions-completed", "job-name"]


class CupsPrinter(DocumentPrinter):
    def __init__(self, queue: str):
        self.queue = queue
        self._sheets: dict[str, int] = {}  # job id -> sheets of the whole job

    def submit(self, pdf: bytes, *, title: str, copies: int = 1) -> str:
        if copies < 1:
            raise ValueError("copies must be at least 1")
        connection = _connect()
        self._check_ready(connection)
        # printFile wants a path; libcups reads it while sending, so it can go right after.
        with tempfile.NamedTemporaryFile(suffix=".pdf") as document:
            document.write(pdf)
            document.flush()
            try:
                job_id = str(connection.printFile(self.queue, document.name, title, {"copies": str(copies)}))
            except cups.IPPError as exc:
                raise PrinterUnavailable(f"CUPS refused the job on {self.queue}: {exc.args[-1]}") from exc
        self._sheets[job_id] = sheets_of(pages_of(pdf)) * copies
        return job_id

    def job_status(self, job_id: str) -> JobStatus:
        connection = _connect()
        try:
            job = connection.getJobAttributes(int(job_id), requested_attributes=_JOB_ATTRIBUTES)
        except (cups.IPPError, RuntimeError) as exc:
            raise PrinterUnavailable(f"lost track of CUPS job {job_id}: {exc}") from exc
        sheets = self._sheets.get(job_id, 0)
        state, message = job["job-state"], job.get("job-printer-state-message", "") or ""
        where = f"CUPS job {job_id} on {self.queue}"
        if state == cups.IPP_JOB_COMPLETED:
            return JobStatus(job_id, JobState.COMPLETED, sheets, sheets)
        if state == cups.IPP_JOB_CANCELED:
            return JobStatus(job_id, JobState.CANCELLED, None, sheets,
                             PrintJobCancelled(f"{where} was cancelled: {message}"))
        if state == cups.IPP_JOB_ABORTED:
            return JobStatus(job_id, JobState.FAILED, None, sheets, PrintJobFailed(f"{where} was aborted: {message}"))
        if state == cups.IPP_JOB_STOPPED:
            if _FILTER_FAILED in _keywords(job.get("job-state-reasons")):
                error: PrinterError = PrintJobFailed(f"{where} failed in a filter: {message}")
            else:
                error = PrintJobFailed(f"{where} was stopped: {message}")
            return JobStatus(job_id, JobState.STOPPED, None, sheets, error)
        # Pending or processing: a queue stopped meanwhile holds it, maybe for hours.
        printer = self._printer_attributes(connection)
        if printer["printer-state"] == cups.IPP_PRINTER_STOPPED:
            return JobStatus(job_id, JobState.STOPPED, None, sheets, self._stopped_error(printer))
        running = JobState.PRINTING if state == cups.IPP_JOB_PROCESSING else JobState.PENDING
        return JobStatus(job_id, running, None, sheets)

    def cancel(self, job_id: str) -> None:
        try:
            _connect().cancelJob(int(job_id))
        except cups.IPPError:
            pass  # it finished or vanished meanwhile; the caller reports its own reason

    def status(self) -> PrinterStatus:
        printer = self._printer_attributes(_connect())
        reasons = _keywords(printer.get("printer-state-reasons"))
        paper = (PaperState.OUT if any(r.startswith("media-empty") or r.startswith("media-needed") for r in reasons)
                 else PaperState.NEAR_END if any(r.startswith("media-low") for r in reasons)
                 else PaperState.UNKNOWN)
        message = printer.get("printer-state-message") or ""
        if printer["printer-state"] == cups.IPP_PRINTER_STOPPED:
            return PrinterStatus(False, paper, message=f"queue {self.queue} is stopped: {message or 'no reason given'}")
        if not printer["printer-is-accepting-jobs"]:
            return PrinterStatus(False, paper, message=f"queue {self.queue} is rejecting jobs")
        return PrinterStatus(paper is not PaperState.OUT, paper, message=message)

    def location_of(self, job_id: str) -> str:
        return f"cups:{self.queue}/{job_id}"

    def _check_ready(self, connection: cups.Connection) -> None:
        printer = self._printer_attributes(connection)
        if printer["printer-state"] == cups.IPP_PRINTER_STOPPED:
            raise self._stopped_error(printer)
        if not printer["printer-is-accepting-jobs"]:
            raise PrinterUnavailable(f"CUPS queue {self.queue} is rejecting jobs")

    def _stopped_error(self, printer: dict) -> PrinterError:
        message = printer.get("printer-state-message") or "no reason given"
        reasons = _keywords(printer.get("printer-state-reasons"))
        kind = OutOfPaper if any(r.startswith("media-empty") for r in reasons) else PrinterUnavailable
        return kind(f"CUPS queue {self.queue} is stopped: {message}")

    def _printer_attributes(self, connection: cups.Connection) -> dict:
        try:
            return connection.getPrinterAttributes(self.queue, requested_attributes=_PRINTER_ATTRIBUTES)
        except cups.IPPError as exc:
            if exc.args[0] == cups.IPP_NOT_FOUND:
                raise PrinterUnavailable(f"no CUPS queue named {self.queue}") from exc
            raise PrinterUnavailable(f"CUPS queue {self.queue}: {exc.args[-1]}") from exc


def _keywords(value) -> list[str]:
    """pycups gives a one-value IPP keyword set as a bare string."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _connect() -> cups.Connection:
    try:
        return cups.Connection()
    except RuntimeError as exc:  # pycups: "failed to connect to server"
        raise PrinterUnavailable(f"cannot reach cupsd: {exc}") from exc

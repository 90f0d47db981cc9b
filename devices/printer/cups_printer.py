"""CupsPrinter: prints through a local cupsd queue with pycups and waits for the job.

A pycups Connection is not safe to share between threads, so each job opens its own.
"""
from __future__ import annotations

import tempfile
import time

import cups

from devices.printer.base import (
    DocumentPrinter,
    PrinterUnavailable,
    PrintJobFailed,
    PrintJobTimedOut,
    PrintResult,
)
from printouts.pdf_pages import count_pages

POLL_INTERVAL = 0.2  # seconds between job-state queries; drivers run in worker threads

_FINISHED_BADLY = {
    cups.IPP_JOB_CANCELED: "canceled",
    cups.IPP_JOB_ABORTED: "aborted",
}
_FILTER_FAILED = "job-completed-with-errors"  # job-state-reasons of a stopped job


class CupsPrinter(DocumentPrinter):
    def __init__(self, queue: str):
        self.queue = queue

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1, timeout: float = 120.0) -> PrintResult:
        if copies < 1:
            raise ValueError("copies must be at least 1")
        deadline = time.monotonic() + timeout
        connection = _connect()
        self._check_ready(connection)
        job_id = self._submit(connection, pdf, title, copies)
        self._wait_for(connection, job_id, deadline, timeout)
        return PrintResult(job_id=str(job_id), pages=count_pages(pdf), copies=copies,
                           location=f"cups:{self.queue}/{job_id}")

    def _check_ready(self, connection: cups.Connection) -> None:
        attributes = self._printer_attributes(connection)
        if attributes["printer-state"] == cups.IPP_PRINTER_STOPPED:
            message = attributes.get("printer-state-message") or "no reason given"
            raise PrinterUnavailable(f"CUPS queue {self.queue} is stopped: {message}")
        if not attributes["printer-is-accepting-jobs"]:
            raise PrinterUnavailable(f"CUPS queue {self.queue} is rejecting jobs")

    def _printer_attributes(self, connection: cups.Connection) -> dict:
        try:
            return connection.getPrinterAttributes(
                self.queue,
                requested_attributes=["printer-state", "printer-state-message", "printer-is-accepting-jobs"],
            )
        except cups.IPPError as exc:
            if exc.args[0] == cups.IPP_NOT_FOUND:
                raise PrinterUnavailable(f"no CUPS queue named {self.queue}") from exc
            raise PrinterUnavailable(f"CUPS queue {self.queue}: {exc.args[-1]}") from exc

    def _submit(self, connection: cups.Connection, pdf: bytes, title: str, copies: int) -> int:
        # printFile wants a path; libcups reads it while sending, so it can go right after.
        with tempfile.NamedTemporaryFile(suffix=".pdf") as document:
            document.write(pdf)
            document.flush()
            try:
                return connection.printFile(self.queue, document.name, title, {"copies": str(copies)})
            except cups.IPPError as exc:
                raise PrinterUnavailable(f"CUPS refused the job on {self.queue}: {exc.args[-1]}") from exc

    def _wait_for(self, connection: cups.Connection, job_id: int, deadline: float, timeout: float) -> None:
        while True:
            job = self._job_attributes(connection, job_id)
            state = job["job-state"]
            if state == cups.IPP_JOB_COMPLETED:
                return
            if state in _FINISHED_BADLY:
                raise PrintJobFailed(f"CUPS job {job_id} on {self.queue} was {_FINISHED_BADLY[state]}: "
                                     f"{job.get('job-printer-state-message', '')}")
            if state == cups.IPP_JOB_STOPPED and _FILTER_FAILED in _reasons(job):
                # A failed filter leaves the job stopped, not aborted: it would sit there.
                self._cancel(connection, job_id)
                raise PrintJobFailed(f"CUPS job {job_id} on {self.queue} failed in a filter: "
                                     f"{job.get('job-printer-state-message', '')}")
            if time.monotonic() >= deadline:
                # Cancel whole, so a late printer never prints a certificate nobody collects.
                self._cancel(connection, job_id)
                raise PrintJobTimedOut(f"CUPS job {job_id} on {self.queue} not done after {timeout:g}s; cancelled")
            time.sleep(POLL_INTERVAL)

    def _job_attributes(self, connection: cups.Connection, job_id: int) -> dict:
        try:
            return connection.getJobAttributes(
                job_id, requested_attributes=["job-state", "job-state-reasons", "job-printer-state-message"]
            )
        except (cups.IPPError, RuntimeError) as exc:
            raise PrinterUnavailable(f"lost track of CUPS job {job_id}: {exc}") from exc

    def _cancel(self, connection: cups.Connection, job_id: int) -> None:
        try:
            connection.cancelJob(job_id)
        except cups.IPPError:
            pass  # it finished or vanished meanwhile; the timeout is reported either way


def _reasons(job: dict) -> list[str]:
    """pycups gives a one-value IPP keyword set as a bare string."""
    reasons = job.get("job-state-reasons", [])
    return [reasons] if isinstance(reasons, str) else list(reasons)


def _connect() -> cups.Connection:
    try:
        return cups.Connection()
    except RuntimeError as exc:  # pycups: "failed to connect to server"
        raise PrinterUnavailable(f"cannot reach cupsd: {exc}") from exc

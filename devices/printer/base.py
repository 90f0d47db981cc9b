"""The one interface every document printer driver offers the kiosk.

Drivers block until the job is finished or has failed; the kiosk calls them from a
worker thread, never from the frame loop.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


class PrinterError(Exception):
    """A print job did not complete. `reason` is a short machine-readable code."""

    reason = "printer_error"


class PrinterUnavailable(PrinterError):
    reason = "printer_unavailable"  # queue stopped/missing, folder not writable


class PrintJobFailed(PrinterError):
    reason = "job_failed"  # the job was aborted or a filter failed


class PrintJobTimedOut(PrinterError):
    reason = "job_timed_out"  # the job was cancelled whole after the time limit


@dataclass(frozen=True)
class PrintResult:
    job_id: str
    pages: int
    copies: int
    location: str  # where the output went: a file path, or "cups:<queue>/<id>"


class DocumentPrinter(ABC):
    @abstractmethod
    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1, timeout: float = 120.0) -> PrintResult:
        """Print `copies` of `pdf`, blocking until done; raise a PrinterError otherwise."""


# Page objects, not the /Type /Pages tree nodes. Enough for the uncompressed object
# tables reportlab writes (no object streams); the kiosk prints only its own output.

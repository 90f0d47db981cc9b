"""Document printer drivers behind one interface, and a factory to pick one by name;
the receipt printers' own interface beside it (`ReceiptPrinter`)."""
from __future__ import annotations

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
    PrintJobTimedOut,
    PrintResult,
    ReceiptPrinter,
    ReceiptPrinterStatus,
)
from devices.printer.folder import FolderPrinter
from devices.printer.sheet_printer import SheetPrinter

__all__ = [
    "CupsPrinter",
    "DocumentPrinter",
    "FolderPrinter",
    "JobState",
    "JobStatus",
    "OutOfPaper",
    "PaperState",
    "PrintJobCancelled",
    "PrintJobFailed",
    "PrintJobTimedOut",
    "PrintResult",
    "PrinterError",
    "PrinterStatus",
    "PrinterUnavailable",
    "ReceiptPrinter",
    "ReceiptPrinterStatus",
    "SheetPrinter",
    "open_printer",
]


def open_printer(kind: str, **options) -> DocumentPrinter:
    """open_printer("folder", directory="out/", paper=50), open_printer("cups", queue="KioskPDF"),
    or open_printer("simulated", paper=10, seconds_per_sheet=0.5)."""
    if kind == "folder":
        return FolderPrinter(**options)
    if kind == "simulated":
        return SheetPrinter(**options)
    if kind == "cups":
        from devices.printer.cups_printer import CupsPrinter  # needs libcups; only when asked

        return CupsPrinter(**options)
    raise ValueError(f"unknown printer kind {kind!r}; expected 'folder', 'simulated' or 'cups'")


def __getattr__(name: str):
    if name == "CupsPrinter":
        from devices.printer.cups_printer import CupsPrinter

        return CupsPrinter
    raise AttributeError(name)

"""Document printer drivers behind one interface, and a factory to pick one by name."""
from __future__ import annotations

from devices.printer.base import (
    DocumentPrinter,
    PrinterError,
    PrinterUnavailable,
    PrintJobFailed,
    PrintJobTimedOut,
    PrintResult,
)
from devices.printer.folder import FolderPrinter

__all__ = [
    "CupsPrinter",
    "DocumentPrinter",
    "FolderPrinter",
    "PrintJobFailed",
    "PrintJobTimedOut",
    "PrintResult",
    "PrinterError",
    "PrinterUnavailable",
    "open_printer",
]


def open_printer(kind: str, **options) -> DocumentPrinter:
    """open_printer("folder", directory="out/") or open_printer("cups", queue="KioskPDF")."""
    if kind == "folder":
        return FolderPrinter(**options)
    if kind == "cups":
        from devices.printer.cups_printer import CupsPrinter  # needs libcups; only when asked

        return CupsPrinter(**options)
    raise ValueError(f"unknown printer kind {kind!r}; expected 'folder' or 'cups'")


def __getattr__(name: str):
    if name == "CupsPrinter":
        from devices.printer.cups_printer import CupsPrinter

        return CupsPrinter
    raise AttributeError(name)

"""FolderReceiptPrinter: the receipt as a text file in a folder (the embedded default),
for a kiosk without a thermal printer. Same calls as the ESC/POS ReceiptPrinter."""
from __future__ import annotations

import os
from pathlib import Path

from devices.printer.base import PrinterStatus, PrinterUnavailable
from devices.printer.escpos_receipt import ReceiptPrinterStatus
from printouts.receipt import Receipt, receipt_lines


class FolderReceiptPrinter:
    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)

    def status(self, timeout: float = 3.0) -> ReceiptPrinterStatus:
        return ReceiptPrinterStatus(online=True, paper_ok=True, paper_near_end=False, cover_open=False, error=False)

    def printer_status(self, timeout: float = 3.0) -> PrinterStatus:
        return self.status(timeout).as_printer_status()

    def print_receipt(self, receipt: Receipt, *, timeout: float = 30.0) -> PrinterStatus:
        text = "\n".join(line.text for line in receipt_lines(receipt)) + "\n"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.directory / f"receipt-{receipt.transaction_number}.txt", "x", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise PrinterUnavailable(f"cannot write the receipt to {self.directory}: {exc}") from exc
        return self.printer_status()

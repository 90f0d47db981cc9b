"""FolderReceiptPrinter: the receipt as a text file in a folder (the embedded default),
for a kiosk without a thermal printer. Always online, never out of paper."""
from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

from devices.printer.base import PrinterUnavailable, ReceiptPrinter, ReceiptPrinterStatus
from printouts.receipt import Receipt, ReceiptLine, receipt_lines

_READY = ReceiptPrinterStatus(online=True, paper_ok=True, paper_near_end=False, cover_open=False, error=False)


class FolderReceiptPrinter(ReceiptPrinter):
    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)

    def status(self, timeout: float = 3.0) -> ReceiptPrinterStatus:
        return _READY

    def print_receipt(self, receipt: Receipt, *, timeout: float = 30.0) -> ReceiptPrinterStatus:
        return self._write(f"receipt-{receipt.transaction_number}.txt", receipt_lines(receipt))

    def print_lines(self, lines: list[ReceiptLine], *, timeout: float = 30.0) -> ReceiptPrinterStatus:
        """A staff slip: the same file, named by when it was printed."""
        return self._write(f"slip-{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}.txt", lines)

    def _write(self, name: str, lines: list[ReceiptLine]) -> ReceiptPrinterStatus:
        text = "\n".join(line.text for line in lines) + "\n"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.directory / name, "x", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise PrinterUnavailable(f"cannot write to {self.directory}: {exc}") from exc
        return _READY

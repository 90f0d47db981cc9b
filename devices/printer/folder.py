"""FolderPrinter: "prints" by writing PDFs into a directory (the embedded default).

It is a SheetPrinter whose paper ends up on disk: each complete copy is the PDF as
issued (`<time>-<job>-copy<n>.pdf`); a copy the printer stopped part-way is written as
`...-copy<n>-partial.pdf` with just the pages that came out, as a clerk would find
them in the tray. Given a `paper` count, the paper can run out mid-job.
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from io import BytesIO
from pathlib import Path

from devices.printer.base import PrinterStatus, PrinterUnavailable
from devices.printer.sheet_printer import CopyOutput, SheetPrinter, SheetJob


class FolderPrinter(SheetPrinter):
    def __init__(self, directory: str | os.PathLike[str], *, paper: int | None = None,
                 seconds_per_sheet: float = 0.0):
        super().__init__(paper=paper, seconds_per_sheet=seconds_per_sheet)
        self.directory = Path(directory)
        self._first_copy: dict[str, Path] = {}

    def submit(self, pdf: bytes, *, title: str, copies: int = 1) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PrinterUnavailable(f"cannot write to {self.directory}: {exc}") from exc
        return super().submit(pdf, title=title, copies=copies)

    def status(self) -> PrinterStatus:
        state = super().status()
        if state.ready and not os.access(self.directory if self.directory.exists() else self.directory.parent,
                                         os.W_OK):
            return PrinterStatus(False, state.paper, state.sheets_left, f"{self.directory} is not writable")
        return state

    def location_of(self, job_id: str) -> str:
        return str(self._first_copy.get(job_id, self.directory))

    def _deliver(self, job: SheetJob, output: CopyOutput) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}-{job.job_id}-copy{output.copy}{'' if output.complete else '-partial'}.pdf"
        data = job.pdf if output.complete else _pages_only(job.pdf, output.pages)
        try:
            path = self._write(data, name)
        except OSError as exc:
            raise PrinterUnavailable(f"cannot write to {self.directory}: {exc}") from exc
        self._first_copy.setdefault(job.job_id, path)

    def _write(self, pdf: bytes, name: str) -> Path:
        """Write to a temp file then link it into place: readers never see half a PDF,
        and os.link fails rather than overwrite an existing file."""
        target = self.directory / name
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".printing-", suffix=".pdf")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pdf)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.link(tmp, target)
        finally:
            os.unlink(tmp)
        return target


def _pages_only(pdf: bytes, pages: list[int]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    reader, writer = PdfReader(BytesIO(pdf)), PdfWriter()
    for number in pages:
        writer.add_page(reader.pages[number])
    out = BytesIO()
    writer.write(out)
    return out.getvalue()

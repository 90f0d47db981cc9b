"""FolderPrinter: "prints" by writing PDFs into a directory (the embedded default)."""
from __future__ import annotations

import os
import tempfile
import uuid
from datetime import datetime
from pathlib import Path

from devices.printer.base import DocumentPrinter, PrinterUnavailable, PrintResult
from printouts.pdf_pages import count_pages


class FolderPrinter(DocumentPrinter):
    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)

    def print_pdf(self, pdf: bytes, *, title: str, copies: int = 1, timeout: float = 120.0) -> PrintResult:
        if copies < 1:
            raise ValueError("copies must be at least 1")
        job_id = uuid.uuid4().hex[:12]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            paths = [self._write_copy(pdf, f"{stamp}-{job_id}-copy{n}.pdf") for n in range(1, copies + 1)]
        except OSError as exc:
            raise PrinterUnavailable(f"cannot write to {self.directory}: {exc}") from exc
        return PrintResult(job_id=job_id, pages=count_pages(pdf), copies=copies, location=str(paths[0]))

    def _write_copy(self, pdf: bytes, name: str) -> Path:
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

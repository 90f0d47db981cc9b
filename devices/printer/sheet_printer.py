"""SheetPrinter: a simulated sheet printer that moves paper one sheet at a time.

It runs each job on its own thread, a sheet every `seconds_per_sheet`, from a tray of
`paper` sheets (None: never runs out). Tests and the demo use its controls to make
real faults happen mid-job: the tray runs dry (the job stops, as a real printer holds
it, until cancelled), a jam, or a printer that stalls and never finishes. What came
out is kept per copy (`outputs`), pages as they left the printer.
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from devices.printer.base import (DocumentPrinter, JobState, JobStatus, OutOfPaper, PaperState,
                                  PrintJobCancelled, PrinterError, PrinterStatus, PrintJobFailed,
                                  PrinterUnavailable, pages_of, sheets_of)

NEAR_END_SHEETS = 20  # the tray's low-paper sensor
KEEP_FINISHED_JOBS = 16  # finished jobs whose status can still be asked for


@dataclass
class CopyOutput:
    """One copy as it left the printer: its pages so far, and whether all of them did."""

    job_id: str
    title: str
    copy: int
    pages: list[int] = field(default_factory=list)  # 0-based page numbers of the PDF
    complete: bool = False


@dataclass
class SheetJob:
    job_id: str
    pdf: bytes
    title: str
    copies: int
    pages: int
    state: JobState = JobState.PENDING
    sheets_out: int = 0
    error: PrinterError | None = None
    wake: threading.Event = field(default_factory=threading.Event)  # set by cancel
    thread: threading.Thread | None = None

    @property
    def sheets(self) -> int:
        return sheets_of(self.pages) * self.copies


class SheetPrinter(DocumentPrinter):
    poll_interval_s = 0.02

    def __init__(self, *, paper: int | None = None, seconds_per_sheet: float = 0.0):
        self.seconds_per_sheet = seconds_per_sheet
        self._paper = paper
        self._lock = threading.Lock()
        self._jobs: dict[str, SheetJob] = {}
        self._jam_after: int | None = None  # sheets into the next job
        self._stalled = False
        self.outputs: list[CopyOutput] = []

    # --- controls (tests, the demo, a clerk) -------------------------------------

    def load_paper(self, sheets: int | None) -> None:
        """Fill the tray (None: unlimited); a job stopped for paper stays stopped."""
        with self._lock:
            self._paper = sheets

    def jam_after(self, sheets: int) -> None:
        """The next job jams after this many of its sheets are out."""
        with self._lock:
            self._jam_after = sheets

    def stall(self, stalled: bool = True) -> None:
        """Stop moving paper without any error, as a hung printer does."""
        with self._lock:
            self._stalled = stalled

    # --- the interface -----------------------------------------------------------

    def submit(self, pdf: bytes, *, title: str, copies: int = 1) -> str:
        if copies < 1:
            raise ValueError("copies must be at least 1")
        pages = pages_of(pdf)
        if not pages:
            raise PrintJobFailed("the document is not a readable PDF")
        state = self.status()
        if not state.ready:
            raise PrinterUnavailable(f"the printer cannot print: {state.message}")
        job = SheetJob(uuid.uuid4().hex[:12], pdf, title, copies, pages)
        with self._lock:
            finished = [j for j in self._jobs.values() if j.state.finished]
            for old in finished[:-KEEP_FINISHED_JOBS]:  # a kiosk prints for years: keep the last few
                del self._jobs[old.job_id]
            self._jobs[job.job_id] = job
        job.thread = threading.Thread(target=self._run, args=(job,), name=f"sheet-printer-{job.job_id}", daemon=True)
        job.thread.start()
        return job.job_id

    def job_status(self, job_id: str) -> JobStatus:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise PrinterUnavailable(f"no job {job_id} on this printer")
            return JobStatus(job.job_id, job.state, job.sheets_out, job.sheets, job.error)

    def cancel(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state.finished:
                return
            job.state = JobState.CANCELLED
            job.error = PrintJobCancelled(f"job {job_id} cancelled after {job.sheets_out} of {job.sheets} sheets",
                                          sheets_out=job.sheets_out)
        job.wake.set()
        job.thread.join(timeout=5)  # what did come out is delivered once cancel returns

    def status(self) -> PrinterStatus:
        with self._lock:
            paper = self._paper
            stopped = any(j.state is JobState.STOPPED for j in self._jobs.values())
        if paper == 0:
            return PrinterStatus(False, PaperState.OUT, 0, "out of paper")
        if stopped:
            return PrinterStatus(False, PaperState.OK, paper, "a stopped job waits to be cancelled")
        near_end = paper is not None and paper <= NEAR_END_SHEETS
        return PrinterStatus(True, PaperState.NEAR_END if near_end else PaperState.OK, paper)

    # --- the engine --------------------------------------------------------------

    def _run(self, job: SheetJob) -> None:
        per_copy = sheets_of(job.pages)
        for copy in range(1, job.copies + 1):
            output = CopyOutput(job.job_id, job.title, copy)
            fault = None
            for sheet in range(per_copy):
                if job.wake.wait(self.seconds_per_sheet):
                    break  # cancelled
                fed = self._feed(job)
                if fed is not True:
                    fault = fed or None
                    break
                output.pages.extend(range(sheet * 2, min(sheet * 2 + 2, job.pages)))
            output.complete = len(output.pages) == job.pages
            if output.pages:
                # Delivered before the fault shows, so whoever sees it finds the paper out.
                self.outputs.append(output)
                try:
                    self._deliver(job, output)
                except PrinterError as exc:
                    fault = JobState.FAILED, exc
            if fault:
                with self._lock:
                    if not job.state.finished:
                        job.state, job.error = fault
                return
            if not output.complete:
                return
        with self._lock:
            if job.state is JobState.PRINTING:
                job.state = JobState.COMPLETED

    def _feed(self, job: SheetJob) -> tuple[JobState, PrinterError] | None | bool:
        """One sheet out (True), cancelled (False), or the fault that stops the job."""
        while True:
            with self._lock:
                if job.state.finished:
                    return False
                if not self._stalled:
                    break
            if job.wake.wait(0.05):
                return False
        with self._lock:
            if job.state.finished:
                return False
            job.state = JobState.PRINTING
            if self._paper == 0:
                return JobState.STOPPED, OutOfPaper(
                    f"out of paper after {job.sheets_out} of {job.sheets} sheets", sheets_out=job.sheets_out)
            if self._jam_after is not None and job.sheets_out >= self._jam_after:
                self._jam_after = None
                return JobState.FAILED, PrintJobFailed(
                    f"paper jam after {job.sheets_out} of {job.sheets} sheets", sheets_out=job.sheets_out)
            if self._paper is not None:
                self._paper -= 1
            job.sheets_out += 1
            return True

    def _deliver(self, job: SheetJob, output: CopyOutput) -> None:
        """Where a copy's pages go once they have left the printer: only `outputs` here.
        May raise a PrinterError, which fails the job."""

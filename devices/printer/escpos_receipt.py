"""EscposReceiptPrinter: an Epson-style ESC/POS thermal printer on a serial port.

pyserial carries the bytes; python-escpos gives the command table (init, styles, size,
cut, DLE EOT). Its `escpos.printer.Serial` is not used: it reads status with read(16),
which waits out the whole timeout on every one-byte answer, flushes (tcdrain, no
timeout) on close, and its text() has no Kanji mode.

Japanese goes out in Shift_JIS in Kanji mode, as on Epson TM Japanese models:
ESC R 8 (Japan: 0x5C prints ¥), ESC t 1 (Katakana page for half-width kana),
FS C 1 (Shift_JIS code system), FS & (Kanji mode on).

A job: real-time status (DLE EOT 1-4) before; the receipt and a cut; then GS r 1, which
the printer answers only once everything before it is printed, polling real-time status
meanwhile so a printer stopped by its paper or cover fails fast; real-time status after.
Every read and write has a deadline.
"""
from __future__ import annotations

import time

import serial
from escpos.constants import CTL_LF, ESC, FS, GS, HW_INIT, PAPER_PART_CUT, RT_STATUS, TXT_SIZE, TXT_STYLE

from devices.printer.base import (OutOfPaper, PrinterError, PrinterUnavailable, PrintJobTimedOut, ReceiptPrinter,
                                  ReceiptPrinterStatus)
from printouts.receipt import Receipt, ReceiptLine, receipt_lines

ENCODING = "shift_jis"  # JIS X 0208; Python's codec maps ¥ to 0x5C, as ESC R 8 prints it
KANJI_SETUP = ESC + b"R\x08" + ESC + b"t\x01" + FS + b"C\x01" + FS + b"&"
TRANSMIT_PAPER_STATUS = GS + b"r\x01"  # answered in order, i.e. once the job is printed
FEED_BEFORE_CUT = ESC + b"d\x05"  # the cutter sits a few lines above the print head
POLL_INTERVAL = 0.5  # seconds between real-time checks while waiting for a job

# Real-time status bytes (DLE EOT n) have the form 0xx1xx10; GS r answers 0xx0xxxx.
_REALTIME_FORM, _REALTIME_FIXED = 0x93, 0x12
_TRANSMIT_FORM = 0x90
_OFFLINE = 0x08  # n=1
_COVER_OPEN, _STOPPED_BY_PAPER_END = 0x04, 0x20  # n=2
_CUTTER_ERROR, _UNRECOVERABLE, _AUTO_RECOVERABLE = 0x08, 0x20, 0x40  # n=3
_NEAR_END, _PAPER_END = 0x0C, 0x60  # n=4


class ReceiptPrinterFault(PrinterUnavailable):
    """The printer reports a condition a clerk must fix. `during_job`: it stopped a
    receipt part-way, so that receipt is incomplete."""

    def __init__(self, message: str, *, during_job: bool = False):
        super().__init__(message)
        self.during_job = during_job


class PaperOut(ReceiptPrinterFault, OutOfPaper):
    reason = "paper_out"


class CoverOpen(ReceiptPrinterFault):
    reason = "cover_open"


class PrinterOffline(ReceiptPrinterFault):
    reason = "printer_offline"  # offline for another cause: a cutter jam, an unrecoverable error


class ProtocolError(PrinterError):
    reason = "protocol_error"  # the printer answered with a byte no status has


class EscposReceiptPrinter(ReceiptPrinter):
    def __init__(self, port: str, *, baudrate: int = 38400, rtscts: bool = False):
        self.port = port
        self.baudrate = baudrate
        self.rtscts = rtscts

    def status(self, timeout: float = 3.0) -> ReceiptPrinterStatus:
        with self._open() as link:
            return link.status(time.monotonic() + timeout)

    def print_receipt(self, receipt: Receipt, *, timeout: float = 30.0) -> ReceiptPrinterStatus:
        return self.print_lines(receipt_lines(receipt), timeout=timeout)

    def print_lines(self, lines: list[ReceiptLine], *, timeout: float = 30.0) -> ReceiptPrinterStatus:
        """Raises a ReceiptPrinterFault, ProtocolError, PrintJobTimedOut or PrinterUnavailable."""
        deadline = time.monotonic() + timeout
        with self._open() as link:
            _raise_if_stopped(link.status(deadline), during_job=False)
            link.write(job_bytes(lines) + TRANSMIT_PAPER_STATUS, deadline)
            link.wait_until_printed(deadline)
            after = link.status(deadline)
        _raise_if_stopped(after, during_job=True)
        return after

    def _open(self) -> _Link:
        try:
            port = serial.Serial(self.port, baudrate=self.baudrate, rtscts=self.rtscts, exclusive=True)
        except (serial.SerialException, ValueError) as exc:
            raise PrinterUnavailable(f"cannot open receipt printer port {self.port}: {exc}") from exc
        return _Link(port)


def job_bytes(lines: list[ReceiptLine]) -> bytes:
    job = bytearray(HW_INIT + KANJI_SETUP)
    for line in lines:
        # GS ! sizes Kanji as well as ANK; python-escpos's ESC ! sizes leave Kanji small.
        job += TXT_STYLE["align"][line.align] + TXT_STYLE["bold"][line.bold]
        job += TXT_SIZE + (b"\x11" if line.double else b"\x00")
        job += line.text.encode(ENCODING) + CTL_LF
    return bytes(job + FEED_BEFORE_CUT + PAPER_PART_CUT)


class _Link:
    """One open port: requests and their one-byte answers, each bounded by a deadline."""

    def __init__(self, port: serial.Serial):
        self._port = port

    def __enter__(self) -> _Link:
        return self

    def __exit__(self, *exc_info) -> None:
        self._port.close()

    def status(self, deadline: float) -> ReceiptPrinterStatus:
        self._port.reset_input_buffer()  # a late answer to an earlier request is stale now
        printer, offline_cause, error, paper = (self._realtime(n, deadline) for n in (1, 2, 3, 4))
        return ReceiptPrinterStatus(
            online=not printer & _OFFLINE,
            paper_ok=not (paper & _PAPER_END or offline_cause & _STOPPED_BY_PAPER_END),
            paper_near_end=bool(paper & _NEAR_END),
            cover_open=bool(offline_cause & _COVER_OPEN),
            error=bool(error & (_CUTTER_ERROR | _UNRECOVERABLE | _AUTO_RECOVERABLE)),
        )

    def wait_until_printed(self, deadline: float) -> None:
        """Wait for the GS r answer sent after the job; a printer that stopped meanwhile
        holds it unanswered, so real-time status is checked every POLL_INTERVAL."""
        while True:
            answer = self._read(min(deadline, time.monotonic() + POLL_INTERVAL), "GS r 1")
            if answer is not None:
                _expect(answer, _TRANSMIT_FORM, 0x00, "GS r 1")
                return
            if time.monotonic() >= deadline:
                raise PrintJobTimedOut(f"receipt printer on {self._port.port} did not answer GS r 1 "
                                       "(sent after the receipt) in time")
            self.write(RT_STATUS + b"\x01", deadline)
            answer = self._answer(deadline, "DLE EOT 1")
            if answer & _TRANSMIT_FORM == 0x00:  # printed just now; the real-time answer follows
                self._answer(deadline, "DLE EOT 1")
                return
            _expect(answer, _REALTIME_FORM, _REALTIME_FIXED, "DLE EOT 1")
            if answer & _OFFLINE:
                _raise_if_stopped(self.status(deadline), during_job=True)

    def write(self, data: bytes, deadline: float) -> None:
        self._port.write_timeout = _remaining(deadline)
        try:
            self._port.write(data)
        except serial.SerialTimeoutException as exc:
            raise PrintJobTimedOut(f"receipt printer on {self._port.port} takes no data "
                                   f"(nothing read for the last {self._port.write_timeout:.1f}s)") from exc
        except serial.SerialException as exc:
            raise PrinterUnavailable(f"receipt printer on {self._port.port}: {exc}") from exc

    def _realtime(self, n: int, deadline: float) -> int:
        self.write(RT_STATUS + bytes([n]), deadline)
        return _expect(self._answer(deadline, f"DLE EOT {n}"), _REALTIME_FORM, _REALTIME_FIXED, f"DLE EOT {n}")

    def _answer(self, deadline: float, request: str) -> int:
        answer = self._read(deadline, request)
        if answer is None:
            raise PrintJobTimedOut(f"receipt printer on {self._port.port} did not answer {request} in time")
        return answer

    def _read(self, until: float, request: str) -> int | None:
        self._port.timeout = _remaining(until)
        try:
            answer = self._port.read(1)
        except serial.SerialException as exc:
            raise PrinterUnavailable(f"receipt printer on {self._port.port}, awaiting {request}: {exc}") from exc
        return answer[0] if answer else None


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _expect(answer: int, form: int, fixed: int, request: str) -> int:
    if answer & form != fixed:
        raise ProtocolError(f"receipt printer answered {request} with byte 0x{answer:02X}, "
                            f"which is no status byte (expected bits {fixed:08b} under mask {form:08b})")
    return answer


def _raise_if_stopped(status: ReceiptPrinterStatus, *, during_job: bool) -> None:
    when = "during the receipt, which is incomplete" if during_job else "before printing; nothing was printed"
    if status.cover_open:
        raise CoverOpen(f"receipt printer cover is open ({when})", during_job=during_job)
    if not status.paper_ok:
        raise PaperOut(f"receipt printer is out of paper ({when})", during_job=during_job)
    if status.error or not status.online:
        cause = "reports an error (cutter jam or similar)" if status.error else "is offline"
        raise PrinterOffline(f"receipt printer {cause} ({when})", during_job=during_job)

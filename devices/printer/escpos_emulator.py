"""An Epson-style ESC/POS receipt printer on a real pseudo-terminal, for tests and demos.

The driver opens `tty_path` with pyserial like any serial port; this side reads the
master end, parses the ESC/POS, answers status requests per the Epson spec and draws
the "paper" with IPAex Gothic into a PIL image. Faults are set with methods:
run_out_of_paper, set_paper_near_end, open_cover, jam_cutter, go_silent (stop reading
and answering) and answer_next_status_with (garbage).

Like a real printer, real-time requests (DLE EOT n) are answered on receipt, even while
offline; everything else is processed in order, and held while the printer is offline
(paper out, cover open, cutter jam) until load_paper / close_cover.

Understood: ESC @ ! E a d R t - M 2 3, GS ! V r, FS & . C !, LF, CR; text in the
selected code page (0 PC437, 1 Katakana) and in Kanji mode (JIS or Shift_JIS).
Anything else is skipped and noted in `errors`.
"""
from __future__ import annotations

import argparse
import os
import select
import sys
import threading
import tty
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw, ImageFont

from printouts.fonts import gothic_path

COLUMNS = 42  # Font A cells across 80 mm paper
CELL_W, CELL_H = 12, 24  # dots of a half-width Font A character
LINE_GAP = 6  # default line spacing is 30 dots
MARGIN = 24

DLE, EOT, ESC, FS, GS, LF, CR = 0x10, 0x04, 0x1B, 0x1C, 0x1D, 0x0A, 0x0D
_PREFIX = {ESC: "ESC", GS: "GS", FS: "FS"}
_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


@dataclass
class _Mode:
    """What ESC @ resets: the power-on state."""

    bold: bool = False
    ank_size: tuple[int, int] = (1, 1)  # width, height multipliers
    kanji_size: tuple[int, int] = (1, 1)
    align: str = "left"
    japan_charset: bool = False  # ESC R 8: 0x5C prints ¥
    katakana_page: bool = False  # ESC t 1
    kanji: bool = False  # FS &
    shift_jis: bool = False  # FS C 1; else JIS


@dataclass(frozen=True)
class _Glyph:
    char: str
    cells: int  # 1 single-byte, 2 double-byte, before scaling
    bold: bool
    size: tuple[int, int]


class EscposEmulator:
    def __init__(self):
        self._paper = _Paper(ImageFont.truetype(str(gothic_path()), CELL_H))  # FontMissing if not installed
        self._lock = threading.RLock()
        self._mode = _Mode()
        self._line: list[_Glyph] = []
        self._held = bytearray()  # received, not yet processed (or held while offline)
        self._tail = b""  # a DLE or DLE EOT split across reads
        self._lines: list[str] = []
        self._receipts: list[list[str]] = []
        self._receipt: list[str] = []
        self._scheduled: list[tuple[int, Callable[[], None]]] = []  # (line count, fault)
        self._errors: list[str] = []
        self._paper_out = self._near_end = self._cover_open = self._cutter_jammed = False
        self._silent = False
        self._garbage: bytes | None = None
        self._thread: threading.Thread | None = None
        self.tty_path = ""

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> EscposEmulator:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or newline mangling, even before the driver opens it
        self.tty_path = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"escpos-emulator {self.tty_path}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is None:
            return
        with self._lock:
            self._closing = True
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=10)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)
        self._thread = None

    def __enter__(self) -> EscposEmulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- faults ------------------------------------------------------------------------

    def run_out_of_paper(self, *, after_lines: int = 0) -> None:
        self._fault(after_lines, lambda: setattr(self, "_paper_out", True))

    def set_paper_near_end(self, near_end: bool = True) -> None:
        with self._lock:
            self._near_end = near_end

    def load_paper(self) -> None:
        with self._lock:
            self._paper_out = self._near_end = False
            self._process()  # a real printer goes on with what it held

    def open_cover(self, *, after_lines: int = 0) -> None:
        self._fault(after_lines, lambda: setattr(self, "_cover_open", True))

    def close_cover(self) -> None:
        with self._lock:
            self._cover_open = False
            self._process()

    def jam_cutter(self) -> None:
        with self._lock:
            self._cutter_jammed = True

    def go_silent(self, *, after_lines: int = 0) -> None:
        """Stop reading the line and answering, as a hung or unplugged printer."""
        self._fault(after_lines, lambda: setattr(self, "_silent", True))

    def speak_again(self) -> None:
        with self._lock:
            self._silent = False
            self._process()
        os.write(self._wake_w, b"x")

    def answer_next_status_with(self, garbage: bytes) -> None:
        with self._lock:
            self._garbage = garbage

    def _fault(self, after_lines: int, apply: Callable[[], None]) -> None:
        with self._lock:
            if after_lines:
                self._scheduled.append((len(self._lines) + after_lines, apply))
            else:
                apply()

    # -- what was printed --------------------------------------------------------------

    @property
    def lines(self) -> list[str]:
        """Every text line printed so far, cut or not."""
        with self._lock:
            return list(self._lines)

    @property
    def receipts(self) -> list[list[str]]:
        """The text lines of each piece of paper cut off so far."""
        with self._lock:
            return [list(r) for r in self._receipts]

    @property
    def errors(self) -> list[str]:
        """Bytes this printer did not understand, described."""
        with self._lock:
            return list(self._errors)

    def paper_image(self) -> Image.Image:
        with self._lock:
            return self._paper.image()

    def save(self, png_path: Path) -> None:
        """The paper as a PNG, and its text next to it (same name, .txt)."""
        with self._lock:
            self._paper.image().save(png_path)
            png_path.with_suffix(".txt").write_text("\n".join(self._lines) + "\n", encoding="utf-8")

    # -- the line ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closing:
                    return
                watched = [self._wake_r] if self._silent else [self._master, self._wake_r]
            readable, _, _ = select.select(watched, [], [])
            if self._wake_r in readable:
                os.read(self._wake_r, 64)
            if self._master in readable:
                with self._lock:
                    if not self._silent:
                        self._receive(os.read(self._master, 4096))

    def _receive(self, chunk: bytes) -> None:
        data, start = self._tail + chunk, 0
        while (at := data.find(bytes((DLE, EOT)), start)) != -1 and at + 2 < len(data):
            self._held += data[start:at]
            self._answer_realtime(data[at + 2])
            start = at + 3
        rest = data[start:]
        keep = 2 if rest.endswith(bytes((DLE, EOT))) else 1 if rest.endswith(bytes((DLE,))) else 0
        self._held += rest[:len(rest) - keep]
        self._tail = rest[len(rest) - keep:]
        self._process()

    def _answer_realtime(self, n: int) -> None:
        offline = self._paper_out or self._cover_open or self._cutter_jammed
        answers = {  # Epson DLE EOT: 0xx1xx10 with the flags of each n
            1: 0x08 * offline,
            2: 0x04 * self._cover_open | 0x20 * self._paper_out | 0x40 * self._cutter_jammed,
            3: 0x08 * self._cutter_jammed,
            4: 0x0C * (self._near_end or self._paper_out) | 0x60 * self._paper_out,
        }
        if n not in answers:
            self._errors.append(f"DLE EOT {n}: no such status")
            return
        garbage, self._garbage = self._garbage, None
        os.write(self._master, garbage if garbage is not None else bytes((0x12 | answers[n],)))

    def _process(self) -> None:
        while self._held and not (self._silent or self._paper_out or self._cover_open or self._cutter_jammed):
            used = self._step(self._held)
            if not used:
                return  # a command's parameters have not all arrived
            del self._held[:used]

    # -- ESC/POS -----------------------------------------------------------------------

    def _step(self, buf: bytearray) -> int:
        """Process the command or character at the start of `buf`; bytes used, 0 if incomplete."""
        first = buf[0]
        if first in (ESC, GS, FS):
            return self._command(buf)
        if first == LF:
            self._print_line()
            return 1
        if first == CR:
            return 1  # ignored while auto line feed is off, as by default
        if first < 0x20 or first == 0x7F:
            self._errors.append(f"control byte 0x{first:02X} not supported")
            return 1
        return self._character(buf)

    def _command(self, buf: bytearray) -> int:
        if len(buf) < 2:
            return 0
        key = bytes(buf[:2])
        if key == b"\x1dV":  # GS V m, or GS V m n for m = 65, 66
            if len(buf) < 3 or (buf[2] in (65, 66) and len(buf) < 4):
                return 0
            self._cut()
            return 4 if buf[2] in (65, 66) else 3
        if key not in self._COMMANDS:
            self._errors.append(f"unknown command {_PREFIX[key[0]]} 0x{key[1]:02X}; skipped 2 bytes")
            return 2
        count, handler = self._COMMANDS[key]
        if len(buf) < 2 + count:
            return 0
        handler(self, *buf[2:2 + count])
        return 2 + count

    def _character(self, buf: bytearray) -> int:
        mode, first = self._mode, buf[0]
        if mode.kanji and _kanji_lead(first, mode.shift_jis):
            if len(buf) < 2:
                return 0
            pair = bytes(buf[:2])
            try:  # JIS is ISO-2022-JP's two-byte set, without the escapes
                char = pair.decode("shift_jis") if mode.shift_jis else (b"\x1b$B" + pair).decode("iso2022_jp")
            except UnicodeDecodeError:
                char = "〓"  # the geta mark printers use for an undefined code
                self._errors.append(f"Kanji code {pair.hex().upper()} undefined")
            self._add(_Glyph(char, 2, mode.bold, mode.kanji_size))
            return 2
        if first == 0x5C and mode.japan_charset:
            char = "¥"
        elif first >= 0x80 and mode.katakana_page:
            char = bytes((first,)).decode("shift_jis", errors="replace")  # half-width kana at A1-DF
        else:
            char = bytes((first,)).decode("cp437")
        if char == "\ufffd":
            self._errors.append(f"byte 0x{first:02X} is blank in the Katakana page")
        self._add(_Glyph(char, 1, mode.bold, mode.ank_size))
        return 1

    def _add(self, glyph: _Glyph) -> None:
        if _width(self._line) + glyph.cells * glyph.size[0] > COLUMNS:
            self._print_line()  # the printer wraps a line wider than the paper
        self._line.append(glyph)

    def _print_line(self) -> None:
        self._paper.print_line(self._line, self._mode.align)
        text = "".join(g.char for g in self._line)
        self._lines.append(text)
        self._receipt.append(text)
        self._line = []
        due = [apply for at, apply in self._scheduled if at <= len(self._lines)]
        self._scheduled = [(at, apply) for at, apply in self._scheduled if at > len(self._lines)]
        for apply in due:
            apply()

    def _cut(self) -> None:
        if self._line:
            self._print_line()
        self._paper.cut()
        self._receipts.append(self._receipt)
        self._receipt = []

    def _feed(self, n: int) -> None:
        if self._line:
            self._print_line()
        self._paper.feed(n)

    def _transmit_status(self, n: int) -> None:
        if n in (1, 49):  # GS r 1: paper sensors; bits 0-1 near end, 2-3 paper end
            os.write(self._master, bytes((0x03 * (self._near_end or self._paper_out) | 0x0C * self._paper_out,)))
        elif n in (2, 50):
            os.write(self._master, b"\x00")  # drawer kick connector: nothing attached
        else:
            self._errors.append(f"GS r {n}: no such status")

    def _set_code_page(self, n: int) -> None:
        if n not in (0, 1):
            self._errors.append(f"ESC t {n}: only code pages 0 (PC437) and 1 (Katakana) are emulated")
        self._mode.katakana_page = n == 1

    def _set_print_mode(self, n: int) -> None:  # ESC !: ANK only
        self._mode.bold = bool(n & 0x08)
        self._mode.ank_size = (2 if n & 0x20 else 1, 2 if n & 0x10 else 1)

    def _set_size(self, n: int) -> None:  # GS !: ANK and Kanji
        self._mode.ank_size = self._mode.kanji_size = ((n >> 4) + 1, (n & 0x0F) + 1)

    def _set_kanji_mode(self, n: int) -> None:  # FS !: Kanji only
        self._mode.kanji_size = (2 if n & 0x04 else 1, 2 if n & 0x08 else 1)

    _COMMANDS: dict[bytes, tuple[int, Callable]] = {
        b"\x1b@": (0, lambda e: (setattr(e, "_mode", _Mode()), e._line.clear())),
        b"\x1b!": (1, _set_print_mode),
        b"\x1bE": (1, lambda e, n: setattr(e._mode, "bold", bool(n & 1))),
        b"\x1ba": (1, lambda e, n: setattr(e._mode, "align", _ALIGN.get(n, "left"))),
        b"\x1bd": (1, _feed),
        b"\x1bR": (1, lambda e, n: setattr(e._mode, "japan_charset", n == 8)),
        b"\x1bt": (1, _set_code_page),
        b"\x1b-": (1, lambda e, n: None),  # underline: not drawn
        b"\x1bM": (1, lambda e, n: None),  # font B: drawn as font A
        b"\x1b2": (0, lambda e: None),  # line spacing: the default is kept
        b"\x1b3": (1, lambda e, n: None),
        b"\x1d!": (1, _set_size),
        b"\x1dr": (1, _transmit_status),
        b"\x1c&": (0, lambda e: setattr(e._mode, "kanji", True)),
        b"\x1c.": (0, lambda e: setattr(e._mode, "kanji", False)),
        b"\x1cC": (1, lambda e, n: setattr(e._mode, "shift_jis", n in (1, 49))),
        b"\x1c!": (1, _set_kanji_mode),
    }


def _kanji_lead(byte: int, shift_jis: bool) -> bool:
    if shift_jis:
        return 0x81 <= byte <= 0x9F or 0xE0 <= byte <= 0xFC
    return 0x21 <= byte <= 0x7E  # JIS: every printable byte pair is one Kanji


def _width(line: list[_Glyph]) -> int:
    return sum(g.cells * g.size[0] for g in line)


class _Paper:
    """The roll as strips of dots, one per printed line, feed or cut mark."""

    def __init__(self, font: ImageFont.FreeTypeFont):
        self._font = font
        self._strips: list[Image.Image] = []

    def print_line(self, line: list[_Glyph], align: str) -> None:
        height = max((g.size[1] * CELL_H for g in line), default=CELL_H)
        strip = Image.new("L", (COLUMNS * CELL_W + 2 * MARGIN, height + LINE_GAP), 255)
        spare = (COLUMNS - _width(line)) * CELL_W
        x = MARGIN + {"left": 0, "center": spare // 2, "right": spare}[align]
        for glyph in line:
            tile = self._glyph(glyph)
            strip.paste(tile, (x, height - tile.height))  # characters of any size share a baseline
            x += tile.width
        self._strips.append(strip)

    def _glyph(self, glyph: _Glyph) -> Image.Image:
        # The font's Latin is proportional; drawn wide, then squeezed into the cell like a printer's.
        cell = glyph.cells * CELL_W
        drawn = max(cell, round(self._font.getlength(glyph.char)))
        tile = Image.new("L", (drawn, CELL_H), 255)
        ImageDraw.Draw(tile).text((drawn / 2, CELL_H / 2), glyph.char, font=self._font, fill=0,
                                  anchor="mm", stroke_width=int(glyph.bold), stroke_fill=0)
        return tile.resize((cell * glyph.size[0], CELL_H * glyph.size[1]), Image.Resampling.LANCZOS)

    def feed(self, lines: int) -> None:
        if lines:
            self._strips.append(Image.new("L", (COLUMNS * CELL_W + 2 * MARGIN, lines * (CELL_H + LINE_GAP)), 255))

    def cut(self) -> None:
        strip = Image.new("L", (COLUMNS * CELL_W + 2 * MARGIN, CELL_H), 255)
        draw = ImageDraw.Draw(strip)
        for x in range(0, strip.width, 12):
            draw.line([(x, CELL_H // 2), (x + 6, CELL_H // 2)], fill=128, width=2)
        self._strips.append(strip)

    def image(self) -> Image.Image:
        width = COLUMNS * CELL_W + 2 * MARGIN
        paper = Image.new("L", (width, max(1, sum(s.height for s in self._strips))), 255)
        y = 0
        for strip in self._strips:
            paper.paste(strip, (0, y))
            y += strip.height
        return paper


_CONSOLE = {
    "paper-out": EscposEmulator.run_out_of_paper,
    "near-end": EscposEmulator.set_paper_near_end,
    "load-paper": EscposEmulator.load_paper,
    "cover-open": EscposEmulator.open_cover,
    "cover-close": EscposEmulator.close_cover,
    "jam": EscposEmulator.jam_cutter,
    "silent": EscposEmulator.go_silent,
    "speak": EscposEmulator.speak_again,
    "garbage": lambda e: e.answer_next_status_with(b"\xff"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devices.printer.escpos_emulator",
        description="An ESC/POS receipt printer on a pseudo-terminal. Prints its tty path; point the "
                    "kiosk's receipt printer at it. Reads commands on stdin: "
                    + ", ".join(_CONSOLE) + ", save, quit. Saves the paper on save and on quit.",
    )
    parser.add_argument("--out", type=Path, default=Path("receipt-paper.png"),
                        help="PNG of the paper (its text goes next to it as .txt); default %(default)s")
    args = parser.parse_args(argv)
    with EscposEmulator() as emulator:
        print(emulator.tty_path, flush=True)
        try:
            for command in map(str.strip, sys.stdin):
                if command == "quit":
                    break
                if command == "save":
                    emulator.save(args.out)
                elif command in _CONSOLE:
                    _CONSOLE[command](emulator)
                elif command:
                    print(f"unknown command {command!r}; one of {', '.join(_CONSOLE)}, save, quit", flush=True)
        except KeyboardInterrupt:
            pass
        emulator.save(args.out)
        for error in emulator.errors:
            print("not understood:", error)
    print(f"paper saved to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

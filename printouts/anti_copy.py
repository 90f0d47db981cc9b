"""The copy-evident background (a "void pantograph") printed under every page's content.

The page is a grid of cells, each 4 × 4 fine dot positions. Outside the word 複写 a
cell holds 16 fine dots and one small "decoy" dot at its centre; inside the word, one
large dot. Both kinds of cell cover the same share of the paper, so the original
shows an even light tint. A copier's optics average away what they cannot resolve
and its print is black or white: the fine and decoy dots fade below its threshold
and vanish, the large dots stay, and the copy reads 複写. The decoys give the field
the same coarse rhythm as the word, so the word's texture does not stand out either.

Dots are zero-length dashes with round caps: a whole row of dots is one line segment,
and a page takes ~1,700 segments, not 870,000 dots. The word is a clip path (its
cells merged into rectangles) inside which the fine field is painted out in white and
the large dots drawn. The operators are built once per set of knock-outs (areas kept
blank, e.g. a QR code's quiet zone) and written into each page's own content stream,
so the page's digest covers its background like everything else on it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from printouts.flate import FLATE
from printouts.fonts import gothic_path
from printouts.page_frame import PAGE_H, PAGE_W

MARGIN = 18.0  # printers leave about 5 mm unprinted; the pattern stops short of it
FINE_PITCH = 0.72  # pt between fine dots: 3 pixels at 300 dpi, 6 at 600, so no moiré
CELL = 4  # fine pitches per cell side; a large or decoy dot per cell
COVERAGE = 0.10  # of the paper, in every cell: a light tint behind black text
DECOY = 0.5  # a decoy's diameter, as a share of a large dot's
# Large dots are drawn this much wider than equal coverage asks: the rasteriser (and
# a printer's toner) spreads small dots proportionally more. Calibrated with pdftoppm
# at 300 dpi, where tests/test_anti_forgery.py measures both tones; a printer model
# is calibrated by scanning its print the same way.
LARGE_GAIN = 1.1

WORD = "複写"
WORD_SIZE = 120.0  # pt; strokes several large dots wide, so the copy reads clearly
WORD_STEP_X, WORD_STEP_Y = 330.0, 200.0  # the word repeated, each row shifted by half a step


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float


CELL_SIDE = CELL * FINE_PITCH
COLUMNS, ROWS = int((PAGE_W - 2 * MARGIN) // CELL_SIDE), int((PAGE_H - 2 * MARGIN) // CELL_SIDE)


def cell_rect(column: int, row: int, columns: int = 1, rows: int = 1) -> Rect:
    """Cells in page points, counted from the pattern's lower-left corner; a cell
    reaches half a fine pitch beyond its outer fine dots."""
    return Rect(MARGIN + column * CELL_SIDE, MARGIN + row * CELL_SIDE, columns * CELL_SIDE, rows * CELL_SIDE)


@cache
def word_cells() -> Image.Image:
    """One pixel per cell, the top row first: 255 where the word is."""
    image = Image.new("L", (COLUMNS, ROWS), 0)
    font = ImageFont.truetype(str(gothic_path()), WORD_SIZE / CELL_SIDE)
    draw = ImageDraw.Draw(image)
    for row in range(-1, int(PAGE_H // WORD_STEP_Y) + 1):
        shift = (row % 2) * WORD_STEP_X / 2
        for step in range(-1, int(PAGE_W // WORD_STEP_X) + 2):
            draw.text(((step * WORD_STEP_X + shift) / CELL_SIDE, (row + 0.25) * WORD_STEP_Y / CELL_SIDE),
                      WORD, fill=255, font=font)
    return image.point(lambda v: 255 if v >= 128 else 0)


@cache
def background(knockouts: tuple[Rect, ...] = ()) -> str:
    """PDF operators drawing the background on a page, but not over the `knockouts`
    (which must not overlap one another)."""
    large = math.sqrt(4 * COVERAGE / math.pi) * CELL  # equal coverage, in fine pitches
    fine = math.sqrt(4 * COVERAGE * (1 - DECOY ** 2) / math.pi)  # the share decoys leave
    width, height = COLUMNS * CELL, ROWS * CELL  # fine dots per row and column
    centre, end = (CELL - 1) / 2, width - 0.5
    centre_rows = [f"{centre} {y + centre} m {end} {y + centre} l" for y in range(0, height, CELL)]
    area = cell_rect(0, 0, COLUMNS, ROWS)
    holes = [hole for hole in (_overlap(k, area) for k in knockouts) if hole is not None]
    in_cells = f"{CELL_SIDE:g} 0 0 {CELL_SIDE:g} {MARGIN:g} {MARGIN:g} cm"
    # from cells to fine pitches, the first fine dot at the origin
    in_fine_pitches = f"{1 / CELL:g} 0 0 {1 / CELL:g} {0.5 / CELL:g} {0.5 / CELL:g} cm"
    operators = "\n".join([
        "q",
        *(_re(r) for r in (area, *holes)), "W* n",  # even-odd: the area, less its holes
        "0 G 1 J", in_cells,
        "q", in_fine_pitches,
        f"{fine:.3f} w [0 1] 0 d", *(f"0 {y} m {end} {y} l" for y in range(height)), "S",
        f"{large * DECOY:.3f} w [0 {CELL}] 0 d", *centre_rows, "S",
        "Q",
        *(_re(Rect(*r)) for r in _merged_runs(word_cells())), "W n",
        in_fine_pitches,
        f"1 g -1 -1 {width + 1} {height + 1} re f",  # the fine dots and decoys, painted out
        f"{large * LARGE_GAIN:.3f} w [0 {CELL}] 0 d", *centre_rows, "S",
        "Q",
    ])
    FLATE.register(operators)  # on every page: compressed once, not per page
    return operators


def _merged_runs(cells: Image.Image) -> list[tuple[int, int, int, int]]:
    """(column, row, columns, rows) rectangles covering the 255 pixels, rows counted
    from the bottom: each row's runs, a run merged with the same run in the row below."""
    width, height = cells.size
    pixels = cells.load()
    merged: list[tuple[int, int, int, int]] = []
    open_runs: dict[tuple[int, int], int] = {}  # (column, columns) -> its first row
    for row in range(height + 1):
        runs = _runs([pixels[x, height - 1 - row] for x in range(width)]) if row < height else set()
        for run in set(open_runs) - runs:
            first = open_runs.pop(run)
            merged.append((run[0], first, run[1], row - first))
        for run in runs - set(open_runs):
            open_runs[run] = row
    return sorted(merged, key=lambda r: (r[1], r[0]))


def _runs(values: list[int]) -> set[tuple[int, int]]:
    """(start, length) of each run of non-zero values."""
    runs, start = set(), None
    for x, value in enumerate([*values, 0]):
        if value and start is None:
            start = x
        elif not value and start is not None:
            runs.add((start, x - start))
            start = None
    return runs


def _overlap(a: Rect, b: Rect) -> Rect | None:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    return Rect(x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def _re(rect: Rect) -> str:
    return f"{rect.x:g} {rect.y:g} {rect.w:g} {rect.h:g} re"

"""Ruled rows of cells, the grid every certificate's body is made of.

A cell holds its text inside its border whatever the text's length: long values wrap
and, if they must, shrink (fit_lines). A row's height is given, or grows to hold its
cells' text at their nominal size.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

from reportlab.lib.colors import Color, black
from reportlab.pdfgen.canvas import Canvas

from printouts.certificate_page import BODY_W, LEFT
from printouts.page_flow import Block
from printouts.text_fit import LEADING, Align, draw_lines, lines_height, wrap

LABEL_SHADE = Color(0.92, 0.92, 0.92)
RULE_WIDTH = 0.6
ENTRY_RULE_WIDTH = 1.4
PAD_X, PAD_Y = 5.0, 3.0  # text keeps this far inside a cell's border
LABEL_W = 80.0  # the label column of 住所 / 世帯主 / 本籍 rows
ROW_H = 30.0


@dataclass(frozen=True)
class Cell:
    width: float
    text: str = ""
    size: float = 10.5
    align: Align = "left"
    shaded: bool = False  # a label cell
    ruby: str | None = None  # a reading printed small above the text (ふりがな)


def label(width: float, text: str, size: float = 9.5) -> Cell:
    """A shaded, centred label cell, e.g. 住所."""
    return Cell(width, text, size=size, align="centre", shaded=True)


def row(font: str, cells: Sequence[Cell], height: float | None = None, min_height: float = 0.0,
        left: float = LEFT) -> Block:
    """One row of cells from x = `left`. Without a `height`, the row is as tall as its
    tallest cell's text wrapped at its nominal size (at least `min_height`)."""
    if height is None:
        height = max([min_height] + [_natural_height(font, c) for c in cells])

    def draw(canvas: Canvas, top: float) -> None:
        x = left
        for cell in cells:
            _draw_cell(canvas, font, cell, x, top - height, height)
            x += cell.width

    return Block(height, draw)


def labelled_row(font: str, label_text: str, value: str, label_width: float = LABEL_W, size: float = 12,
                 min_height: float = ROW_H) -> Block:
    """A shaded label, then the value across the rest of the body: 住所 | ……"""
    return row(font, [label(label_width, label_text), Cell(BODY_W - label_width, value, size=size)],
               min_height=min_height)


def ruled_above(block: Block) -> Block:
    """The block with a heavier rule across its top: where a new person's entry starts."""
    def draw(canvas: Canvas, top: float) -> None:
        block.draw(canvas, top)
        canvas.setLineWidth(ENTRY_RULE_WIDTH)
        canvas.line(LEFT, top, LEFT + BODY_W, top)

    return replace(block, draw=draw)


def _natural_height(font: str, cell: Cell) -> float:
    lines = wrap(cell.text, font, cell.size, cell.width - 2 * PAD_X)
    ruby = cell.size * 0.55 * LEADING if cell.ruby else 0.0
    return lines_height(len(lines), cell.size) + ruby + 2 * PAD_Y


def _draw_cell(canvas: Canvas, font: str, cell: Cell, x: float, bottom: float, height: float) -> None:
    if cell.shaded:
        canvas.setFillColor(LABEL_SHADE)
        canvas.rect(x, bottom, cell.width, height, stroke=0, fill=1)
        canvas.setFillColor(black)
    canvas.setLineWidth(RULE_WIDTH)
    canvas.rect(x, bottom, cell.width, height)
    inner_w = cell.width - 2 * PAD_X
    inner_h = height - 2 * PAD_Y
    if cell.ruby:
        ruby_h = min(cell.size * 0.55, inner_h * 0.3) * LEADING
        draw_lines(canvas, font, cell.ruby, cell.size * 0.55, x + PAD_X, bottom + height - PAD_Y,
                   inner_w, ruby_h, cell.align)
        inner_h -= ruby_h
    draw_lines(canvas, font, cell.text, cell.size, x + PAD_X, bottom + PAD_Y + inner_h, inner_w, inner_h,
               cell.align)

"""Fitting text into a box: wrap it, shrink it, never let it run over the box's edge;
and drawing it there.

Japanese text breaks between any two characters; a run of Latin letters or digits (an
alphabet name, a card number) breaks at a space when it has one, so "NGUYEN VAN AN"
does not become "NGUY / EN". Widths come from reportlab's metrics at size 1, which
scale linearly, so trying several sizes costs no further metric look-ups.
"""
from __future__ import annotations

from functools import cache
from typing import Literal

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

LEADING = 1.2  # line pitch, as a multiple of the font size
SIZE_STEP = 0.25  # how finely a size is searched when text has to shrink
ASCENT = 0.88  # IPAex glyphs rise about this far above the baseline, in em

Align = Literal["left", "centre", "right"]


@cache
def _char_width(char: str, font: str) -> float:
    return stringWidth(char, font, 1)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width` at `size`; "\\n" starts a new line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, font, width / size))
    return lines


def _wrap_paragraph(text: str, font: str, width: float) -> list[str]:
    lines, start, used = [], 0, 0.0
    for i, char in enumerate(text):
        w = _char_width(char, font)
        if used + w > width and i > start:
            cut = _break_before(text, start, i)
            lines.append(text[start:cut].rstrip(" "))
            start = cut
            while start < len(text) and text[start] == " ":
                start += 1
            used = sum(_char_width(c, font) for c in text[start:i + 1])
        else:
            used += w
    if start < len(text) or not lines:
        lines.append(text[start:])
    return lines


def _break_before(text: str, start: int, overflow: int) -> int:
    """Where to end the line that overflows at `overflow`: there, unless that splits a
    Latin word and the line has a space to break at instead."""
    if _is_latin(text[overflow]) and _is_latin(text[overflow - 1]):
        space = text.rfind(" ", start + 1, overflow)
        if space > start:
            return space + 1
    return overflow


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def fit_lines(text: str, font: str, size: float, width: float, height: float) -> tuple[float, list[str]]:
    """The largest size at most `size`, and the lines at it, at which `text` fits a
    `width` × `height` box: one line if it fits, wrapped if wrapping keeps it larger."""
    s = min(size, height / LEADING)
    if "\n" not in text and stringWidth(text, font, s) <= width:
        return s, [text]  # the common case: one line at the requested size
    while True:
        lines = wrap(text, font, s, width)
        if len(lines) * s * LEADING <= height or s <= SIZE_STEP:
            return s, lines
        s = max(s - SIZE_STEP, SIZE_STEP)


def lines_height(line_count: int, size: float) -> float:
    return line_count * size * LEADING


def fitted_size(text: str, font: str, size: float, max_width: float) -> float:
    """The size at most `size` at which `text` fits `max_width` on one line."""
    width = stringWidth(text, font, size)
    return size if width <= max_width else size * max_width / width


def draw_string(canvas: Canvas, font: str, size: float, x: float, y: float, text: str, align: Align = "left") -> None:
    """One line with its baseline at y, starting, centred or ending at x."""
    canvas.setFont(font, size)
    if align == "centre":
        canvas.drawCentredString(x, y, text)
    elif align == "right":
        canvas.drawRightString(x, y, text)
    else:
        canvas.drawString(x, y, text)


def draw_lines(canvas: Canvas, font: str, text: str, size: float, x: float, top: float, width: float,
               height: float, align: Align = "left") -> None:
    """`text` fitted into the `width` × `height` box below (x, top), centred vertically."""
    if not text:
        return
    size, lines = fit_lines(text, font, size, width, height)
    # the first baseline: the lines centred in the box, each glyph's ascent below its line's top
    baseline = top - (height - lines_height(len(lines), size)) / 2 - size * (LEADING - 1) / 2 - size * ASCENT
    anchor = {"left": x, "centre": x + width / 2, "right": x + width}[align]
    for line in lines:
        draw_string(canvas, font, size, anchor, baseline, line, align)
        baseline -= size * LEADING

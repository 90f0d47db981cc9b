"""Seals drawn in red: the mayor's square official seal (公印) on every certificate, and
a resident's round registered seal impression (印影) on a 印鑑登録証明書.

Both are fictional drawings set in Mincho: characters in vertical columns read right
to left, the way seals are carved.
"""
from __future__ import annotations

from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

SEAL_RED = Color(0.82, 0.1, 0.1)
MAX_STRETCH = 1.6


def official_seal_text(mayor: str) -> str:
    """"みどり市長　青木 一郎" -> "みどり市長之印": the office title, then 之印."""
    return mayor.split()[0] + "之印"


def draw_official_seal(canvas: Canvas, font: str, text: str, x: float, y: float, size: float) -> None:
    """A square seal with a double red border, lower-left corner at (x, y)."""
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(2.4)
    canvas.rect(x, y, size, size)
    canvas.setLineWidth(0.8)
    canvas.rect(x + 3, y + 3, size - 6, size - 6)
    columns = _split_columns(text, _square_column_count(len(text)))
    _draw_columns(canvas, font, columns, x + 5, y + 5, size - 10, size - 10, stretch=False)
    canvas.restoreState()


def draw_personal_seal(canvas: Canvas, font: str, text: str, cx: float, cy: float, diameter: float) -> None:
    """A round personal seal centred on (cx, cy). Up to three characters stand in one
    column, stretched to fill it as carved seals are; an alphabet name runs across."""
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(diameter * 0.035)
    canvas.circle(cx, cy, diameter / 2)
    inner = diameter * 0.62  # a square inside the ring, clear of its curve
    if text.isascii():
        size = min(inner / 2, inner / stringWidth(text, font, 1))
        canvas.setFont(font, size)
        canvas.drawCentredString(cx, cy - size * 0.36, text)
    else:
        count = 1 if len(text) <= 3 else 2 if len(text) <= 6 else _square_column_count(len(text))
        columns = _split_columns(text, count)
        _draw_columns(canvas, font, columns, cx - inner / 2, cy - inner / 2, inner, inner, stretch=True)
    canvas.restoreState()


def _draw_columns(canvas: Canvas, font: str, columns: list[str], x: float, y: float, width: float, height: float,
                  stretch: bool) -> None:
    col_w = width / len(columns)
    for i, column in enumerate(columns):
        cx = x + width - col_w * (i + 0.5)
        row_h = height / len(column)
        size = min(col_w, row_h) * 0.9
        # a stretched character fills its cell, up to a proportion that stays legible
        scale_x = min(col_w * 0.9 / size, MAX_STRETCH) if stretch else 1.0
        scale_y = min(row_h * 0.9 / size, MAX_STRETCH) if stretch else 1.0
        for j, char in enumerate(column):
            baseline = y + height - row_h * (j + 0.5) - size * scale_y * 0.36
            canvas.saveState()
            canvas.translate(cx, baseline)
            canvas.scale(scale_x, scale_y)
            canvas.setFont(font, size)
            canvas.drawCentredString(0, 0, char)
            canvas.restoreState()


def _square_column_count(length: int) -> int:
    """About √n columns, so the characters fill a square: 7 chars -> 3 columns."""
    count = 1
    while count * count < length:
        count += 1
    return count


def _split_columns(text: str, count: int) -> list[str]:
    """`count` columns, longer ones first (read first): 7 chars in 3 -> 3, 2, 2."""
    base, extra = divmod(len(text), count)
    columns, start = [], 0
    for i in range(count):
        length = base + (1 if i < extra else 0)
        columns.append(text[start:start + length])
        start += length
    return [c for c in columns if c]

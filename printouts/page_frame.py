"""What both sides of every sheet share: the A4 geometry, the identity line at the top
(municipality, 証明書番号, the page's label) and the microtext rule.

The microtext rule is a line of the municipality and the serial, repeated in 1 pt
type: a hairline to the eye, text under a loupe. A copier or a scan blurs it into a
plain line, and because it carries the serial it cannot be lifted from another
certificate. PDF text, so it can be read back (pypdf finds it).
"""
from __future__ import annotations

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from printouts.records import Certification
from printouts.text_fit import draw_string, fitted_size

PAGE_W, PAGE_H = A4
LEFT, RIGHT = 50.0, PAGE_W - 50.0
BODY_W = RIGHT - LEFT

HEADER_BASELINE = PAGE_H - 42
PAGE_NUMBER_BASELINE = PAGE_H - 56

MICROTEXT_SIZE = 1.0
MICROTEXT_CLEARANCE = 2.0  # pt kept free of the background around the rule


def draw_identity(canvas: Canvas, font: str, certification: Certification, page_label: str) -> None:
    """The municipality on the left; 証明書番号 and e.g. "1 / 2" under it on the right."""
    serial = f"証明書番号　{certification.serial}"
    draw_string(canvas, font, 9, RIGHT, HEADER_BASELINE, serial, align="right")
    draw_string(canvas, font, 9, RIGHT, PAGE_NUMBER_BASELINE, page_label, align="right")
    municipality_w = BODY_W - stringWidth(serial, font, 9) - 20
    draw_string(canvas, font, fitted_size(certification.municipality, font, 12, municipality_w), LEFT,
                HEADER_BASELINE, certification.municipality)


def microtext(certification: Certification, font: str, width: float) -> str:
    """The municipality and serial repeated to fill `width` at MICROTEXT_SIZE."""
    unit = f"{certification.municipality} {certification.serial} "
    widths = [stringWidth(char, font, MICROTEXT_SIZE) for char in unit]
    repeats, rest = divmod(width, sum(widths))
    tail = 0
    while tail < len(unit) and sum(widths[:tail + 1]) <= rest:
        tail += 1
    return unit * int(repeats) + unit[:tail]


def draw_microtext_rule(canvas: Canvas, font: str, certification: Certification, y: float) -> None:
    """The rule from LEFT to RIGHT, its baseline at y."""
    draw_string(canvas, font, MICROTEXT_SIZE, LEFT, y, microtext(certification, font, BODY_W))

"""The verification code as a QR code, drawn as vector rectangles in the page's own
content stream (so each page's digest covers its QR, and it prints crisp at any dpi).

The symbol is built once per certificate and the same path drawn on every page. It is
segno's symbol, built faster (qr_mask).
"""
from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.colors import black
from reportlab.pdfgen.canvas import Canvas

from printouts.qr_mask import qr_matrix

QUIET_ZONE_MODULES = 4  # the blank margin scanners need around the symbol
ERROR_LEVEL = "m"  # survives smudges and a fold across the code; ~130 chars fit version 6


@dataclass(frozen=True)
class QrSymbol:
    modules: int  # per side, without the quiet zone
    path: str  # PDF operators filling the dark modules, in module units, y downwards


def qr_symbol(code: str) -> QrSymbol:
    if not code:
        raise ValueError("the verification code is empty")
    matrix = qr_matrix(code, ERROR_LEVEL)
    return QrSymbol(len(matrix), _dark_runs_path(matrix))


def _dark_runs_path(matrix) -> str:
    """One rectangle per run of dark modules in a row, all filled at once: adjacent
    rectangles of separate fills would show hairline seams in anti-aliased rasterisers.
    Integer module coordinates keep the path short and quick to write."""
    ops = []
    for r, modules in enumerate(matrix):
        c, n = 0, len(modules)
        while c < n:
            if modules[c]:
                start = c
                while c < n and modules[c]:
                    c += 1
                ops.append(f"{start} {r} {c - start} 1 re")
            else:
                c += 1
    ops.append("f")
    return "\n".join(ops)


def draw_qr(canvas: Canvas, symbol: QrSymbol, x: float, y: float, side: float) -> None:
    """The symbol filling a `side` square whose lower-left corner is (x, y)."""
    module = side / symbol.modules
    canvas.saveState()
    canvas.setFillColor(black)
    canvas.transform(module, 0, 0, -module, x, y + side)  # module units from the top-left
    canvas.addLiteral(symbol.path)
    canvas.restoreState()

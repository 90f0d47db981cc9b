"""The verification code as a QR code, drawn as vector rectangles in the page's own
content stream (so each page's digest covers its QR, and it prints crisp at any dpi).

The symbol is built once per certificate and the same path drawn on every page, by
zxing-cpp: its C++ encoder takes ~0.3 ms (~0.5 with the path) where segno's Python one,
even with a faster mask search of our own, took ~2 ms, a quarter of a certificate's
rendering.
"""
from __future__ import annotations

from dataclasses import dataclass

import zxingcpp
from reportlab.lib.colors import black
from reportlab.pdfgen.canvas import Canvas

QUIET_ZONE_MODULES = 4  # the blank margin scanners need around the symbol; left by the page, not in the matrix
ERROR_LEVEL = "m"  # survives smudges and a fold across the code; ~130 chars fit version 6

_DARK = bytes.maketrans(b"\x00\xff", b"\x01\x00")  # zxing-cpp's pixels (0 dark, 255 light) as modules


@dataclass(frozen=True)
class QrSymbol:
    modules: int  # per side, without the quiet zone
    path: str  # PDF operators filling the dark modules, in module units, y downwards


def qr_symbol(code: str) -> QrSymbol:
    if not code:
        raise ValueError("the verification code is empty")
    matrix = qr_matrix(code)
    return QrSymbol(len(matrix), _dark_runs_path(matrix))


def qr_matrix(code: str) -> list[bytes]:
    """The symbol at ERROR_LEVEL without its quiet zone: rows of 1 (dark) and 0 bytes."""
    image = memoryview(zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_LEVEL.upper())
                       .to_image(scale=1, add_quiet_zones=False))
    size = image.shape[1]
    modules = image.tobytes().translate(_DARK)
    return [modules[i:i + size] for i in range(0, len(modules), size)]


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

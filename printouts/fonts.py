"""The fonts certificates are printed in: Mincho, registered with reportlab once; and
Gothic, only rasterised (the copy-evident background's hidden word, the receipt
emulator's paper), never embedded. `FontMissing` is every part's error for a font
package not installed, the kiosk's screen fonts included, so this module imports
reportlab only when a certificate is drawn."""
from __future__ import annotations

from functools import cache
from pathlib import Path

MINCHO = "IPAexMincho"  # the name renderers pass to setFont()
MINCHO_PATH = Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")
MINCHO_PACKAGE = "fonts-ipaexfont-mincho"
GOTHIC_PATH = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
GOTHIC_PACKAGE = "fonts-ipaexfont-gothic"


class FontMissing(RuntimeError):
    """A font's Debian package is not installed (scripts/install-system-deps.sh)."""


@cache
def mincho() -> str:
    """Register IPAex Mincho (reportlab embeds a subset per PDF) and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = TTFont(MINCHO, str(_installed(MINCHO_PATH, MINCHO_PACKAGE)))
    _keep_tables(font.face)
    pdfmetrics.registerFont(font)
    return MINCHO


def _keep_tables(face) -> None:
    """reportlab copies a table out of the font file each time it reads it: every
    subset it embeds copied the whole glyf table (7 MB for IPAex Mincho), twice per
    certificate. The tables never change, so each is copied once."""
    tables: dict[str, bytes] = {}
    copy = face.get_table

    def get_table(tag: str) -> bytes:
        table = tables.get(tag)
        if table is None:
            table = tables[tag] = copy(tag)
        return table

    face.get_table = get_table


def gothic_path() -> Path:
    """IPAex Gothic's file, for drawing with Pillow."""
    return _installed(GOTHIC_PATH, GOTHIC_PACKAGE)


def _installed(path: Path, package: str) -> Path:
    if not path.is_file():
        raise FontMissing(
            f"font not found at {path}; install the Debian package {package} (scripts/install-system-deps.sh)"
        )
    return path

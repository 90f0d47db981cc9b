"""The Mincho font certificates are printed in, registered with reportlab once."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

MINCHO = "IPAexMincho"  # the name renderers pass to setFont()
MINCHO_PATH = Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")
MINCHO_PACKAGE = "fonts-ipaexfont-mincho"


class FontMissing(RuntimeError):
    pass


@cache
def mincho() -> str:
    """Register IPAex Mincho (reportlab embeds a subset per PDF) and return its name."""
    if not MINCHO_PATH.is_file():
        raise FontMissing(
            f"Mincho font not found at {MINCHO_PATH}; install the Debian package "
            f"{MINCHO_PACKAGE} (scripts/install-system-deps.sh)"
        )
    pdfmetrics.registerFont(TTFont(MINCHO, str(MINCHO_PATH)))
    return MINCHO

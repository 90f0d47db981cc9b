"""Screen text from gettext catalogs (read with babel at start, no build step).

Messages are written in English in the code; each language's catalog lives in
kiosk/locale/<lang>/LC_MESSAGES/kiosk.po. English needs no catalog.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = {"ja": "日本語", "en": "English"}


@lru_cache(maxsize=None)
def catalog(language: str) -> dict[str, str]:
    if language == "en":
        return {}
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "kiosk.po", "rb") as f:
        po = read_po(f, locale=language)
    return {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}


def translate(language: str, message: str, **values) -> str:
    text = catalog(language).get(message, message)
    return text.format(**values) if values else text

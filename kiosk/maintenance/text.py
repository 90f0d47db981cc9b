"""Maintenance screen and slip text from its own gettext catalog,
kiosk/locale/<lang>/LC_MESSAGES/maintenance.po, read with babel as kiosk.i18n reads
the resident's. Messages are English in the code; English needs no catalog."""
from __future__ import annotations

from functools import lru_cache

from babel.messages.pofile import read_po

from kiosk.i18n import LOCALE_DIR

DOMAIN = "maintenance"


@lru_cache(maxsize=None)
def catalog(language: str) -> dict[str, str]:
    if language == "en":
        return {}
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        po = read_po(f, locale=language)
    return {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}


def translate(language: str, message: str, **values) -> str:
    text = catalog(language).get(message, message)
    return text.format(**values) if values else text

"""Maintenance screen and slip text from its own gettext catalog,
kiosk/locale/<lang>/LC_MESSAGES/maintenance.po, read with babel as kiosk.i18n reads
the resident's. Messages are English in the code; English needs no catalog."""
from __future__ import annotations

from functools import lru_cache

from babel.messages.pofile import read_po

from kiosk.i18n import LOCALE_DIR

DOMAIN = "maintenance"


@lru_cache(maxsize=None)
def catalog(language: str) -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) -> msgstr: a context tells apart one English word with two
    Japanese ones (the keypad's OK is 確定, a device's OK is 正常)."""
    if language == "en":
        return {}
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        po = read_po(f, locale=language)
    return {(m.context, m.id): m.string for m in po if m.id and m.string and not m.fuzzy}


def translate(language: str, message: str, **values) -> str:
    text = catalog(language).get((None, message), message)
    return text.format(**values) if values else text


def translate_in(language: str, context: str, message: str) -> str:
    return catalog(language).get((context, message), message)

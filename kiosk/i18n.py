"""Screen text from gettext catalogs (read with babel at start, no build step).

Messages are written in English in the code; each language's catalog lives in
kiosk/locale/<lang>/LC_MESSAGES/kiosk.po. English needs no catalog. The catalogs
are extracted and updated with `scripts/update-translations.sh` (babel.cfg).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "kiosk"

# Each language named in itself, in the order the picker shows them.
# ja_easy is plain Japanese (やさしい日本語): simple words, mostly hiragana, spaces between phrases.
LANGUAGES = {
    "ja": "日本語",
    "ja_easy": "やさしい にほんご",
    "en": "English",
    "zh_Hans": "简体中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "pt_BR": "Português",
}


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined (tables); translated where shown."""
    return message


@lru_cache(maxsize=None)
def catalog(language: str) -> dict[str, str]:
    if language == "en":
        return {}
    from babel.messages.pofile import read_po  # 20 ms to import: only once a catalog is read

    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        po = read_po(f, locale=language.split("_")[0])
    return {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}


def translate(language: str, message: str, **values) -> str:
    text = catalog(language).get(message, message)
    return text.format(**values) if values else text

"""Extracts the kiosk's screen text into kiosk/locale/kiosk.pot and updates every
language's kiosk.po from it (new messages appear untranslated, gone ones are dropped).

    .venv/bin/python -m kiosk.translations

Uses babel.cfg at the project root. Babel knows no locale "ja_easy", so every
catalog is read and written under its base language, which only decides plurals.
"""
from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from kiosk.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = LOCALE_DIR.parent.parent
KEYWORDS = {"_": None, "N_": None, "translate": (2,)}


def extract() -> Catalog:
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    template = Catalog(project="konbini-kiosk", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def _write_if_changed(path: Path, template: Catalog) -> None:
    """Keeps the old file when only its creation date would change."""
    buffer = BytesIO()
    write_po(buffer, template, width=100)
    dated = re.compile(rb'"POT-Creation-Date: [^"]*"\n')
    if path.exists() and dated.sub(b"", path.read_bytes()) == dated.sub(b"", buffer.getvalue()):
        return
    path.write_bytes(buffer.getvalue())


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def update() -> dict[str, int]:
    """Writes the template and every catalog; returns how many messages each lacks."""
    template = extract()
    _write_if_changed(LOCALE_DIR / f"{DOMAIN}.pot", template)
    missing = {}
    for language in LANGUAGES:
        if language == "en":
            continue
        path = po_path(language)
        base = language.split("_")[0]
        if path.exists():
            with open(path, "rb") as f:
                catalog = read_po(f, locale=base)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=base, project="konbini-kiosk", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()  # a message gone from the code needs no translation kept
        with open(path, "wb") as f:  # no source lines: the .pot has them, and they move with every edit
            write_po(f, catalog, width=100, ignore_obsolete=True, no_location=True)
        missing[language] = sum(1 for m in catalog if m.id and (not m.string or m.fuzzy))
    return missing


if __name__ == "__main__":
    for language, count in update().items():
        print(f"{language}: {count} untranslated")

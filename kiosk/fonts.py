"""Which typeface draws a text: the screen language's own first, then any that has
every glyph (a Japanese name on a Vietnamese screen, the picker's language names).

Faces come from Debian packages (scripts/install-system-deps.sh). pygame's Font draws;
pygame.freetype tells which glyphs a face has, since Font.metrics answers for a
missing glyph with the empty box's metrics.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pygame
import pygame.freetype

from printouts.fonts import FontMissing

FACES: dict[str, tuple[Path, ...]] = {
    "ipaex": (Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
              Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf")),
    "wqy": (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),),
    "nanum": (Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf"),),
    "dejavu": (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),),
}
# Simplified Chinese needs its own face: IPAex would draw shared characters in Japanese forms.
LANGUAGE_FACE = {"ja": "ipaex", "ja_easy": "ipaex", "en": "ipaex", "pt_BR": "ipaex",
                 "zh_Hans": "wqy", "ko": "nanum", "vi": "dejavu"}


@lru_cache(maxsize=None)
def face_path(face: str) -> Path | None:
    return next((p for p in FACES[face] if p.exists()), None)


@lru_cache(maxsize=None)
def _glyphs(face: str) -> pygame.freetype.Font:
    if not pygame.freetype.get_init():
        pygame.freetype.init()
    return pygame.freetype.Font(str(face_path(face)), 16)


_COVERED: dict[str, dict[str, bool]] = {}  # face -> character -> whether the face draws it


def covers(face: str, text: str) -> bool:
    """Each character is looked up once per face: texts share most of theirs."""
    if face_path(face) is None:
        return False
    known = _COVERED.setdefault(face, {})
    new = "".join(set(text).difference(known))
    if new:
        try:
            metrics = _glyphs(face).get_metrics(new)
        except pygame.error:  # freetype was quit and started again since (pygame.quit): its fonts died
            _glyphs.cache_clear()
            metrics = _glyphs(face).get_metrics(new)
        known.update(zip(new, (m is not None for m in metrics)))
    return all(known[c] for c in text)


@lru_cache(maxsize=4096)
def face_for(text: str, language: str | None) -> str:
    """The face that draws `text`: the language's own when it has every glyph."""
    order = [LANGUAGE_FACE.get(language or "", "ipaex")] + list(FACES)
    available = [f for f in order if face_path(f) is not None]
    if not available:
        raise FontMissing("no screen font: install fonts-ipaexfont-gothic (scripts/install-system-deps.sh)")
    return next((f for f in available if covers(f, text)), available[0])


@lru_cache(maxsize=24)  # a drawing uses up to 16 sizes; each open one holds ~0.35 MB of tables
def _font(face: str, size: int) -> pygame.font.Font:
    if not pygame.font.get_init():
        pygame.font.init()
    return pygame.font.Font(str(face_path(face)), max(1, size))


def font(face: str, size: int) -> pygame.font.Font:
    f = _font(face, size)
    try:
        f.get_linesize()
    except pygame.error:  # the font module was quit since (pygame.quit): every kept font died with it
        _font.cache_clear()
        _glyphs.cache_clear()
        f = _font(face, size)
    return f

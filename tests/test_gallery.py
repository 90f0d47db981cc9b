"""The reviewers' gallery: every screen of the catalogue, drawn, in each language asked for."""
from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from kiosk.gallery import build_gallery  # noqa: E402
from kiosk.screen_catalogue import every_view  # noqa: E402


def test_the_gallery_holds_every_screen_in_every_language_asked_for(tmp_path):
    index = build_gallery(tmp_path, languages=["en", "ko"])
    page = index.read_text(encoding="utf-8")
    screens = len(list(every_view("en")))
    for lang in ("en", "ko"):
        images = sorted((tmp_path / lang).glob("*.png"))
        assert len(images) == screens
        assert all(image.stat().st_size > 5000 for image in images), "a screen came out blank"
        assert all(f'src="{lang}/{image.name}"' in page for image in images)
    assert "problem-pin_blocked" in page and "take_card" in page

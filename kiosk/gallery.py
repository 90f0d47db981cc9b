"""`kiosk gallery`: every screen in every language on one page, for a reviewer.

Each view of the screen catalogue is drawn by the real renderer (SDL's dummy video
driver, no window) and saved as a PNG; index.html shows them in a grid, a row per
screen and a column per language, so a missing translation or a cramped button is
seen at a glance.
"""
from __future__ import annotations

import html
import os
from pathlib import Path

PANELS = {"7in": (1024, 600), "15in": (1920, 1080)}


def build_gallery(out: Path, *, panel: str = "7in", languages: list[str] | None = None,
                  large_text: bool = False, high_contrast: bool = False) -> Path:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from kiosk.i18n import LANGUAGES
    from kiosk.render import Renderer
    from kiosk.screen_catalogue import every_view

    languages = languages or list(LANGUAGES)
    pygame.display.init()
    pygame.font.init()
    surface = pygame.Surface(PANELS[panel])
    renderer = Renderer(surface)
    rows: dict[str, dict[str, str]] = {}  # screen id -> language -> image path
    out.mkdir(parents=True, exist_ok=True)
    for lang in languages:
        (out / lang).mkdir(exist_ok=True)
        for n, view in enumerate(every_view(lang), start=1):
            view.large_text, view.high_contrast = large_text, high_contrast
            renderer.draw(view, now=0.0)
            name = f"{n:02d}-{view.name}.png"
            pygame.image.save(surface, str(out / lang / name))
            rows.setdefault(f"{n:02d}-{view.name}", {})[lang] = f"{lang}/{name}"
    index = out / "index.html"
    index.write_text(_page(rows, languages, panel), encoding="utf-8")
    return index


def _page(rows: dict[str, dict[str, str]], languages: list[str], panel: str) -> str:
    head = "".join(f"<th>{html.escape(lang)}</th>" for lang in languages)
    body = []
    for screen, images in rows.items():
        cells = "".join(f'<td><a href="{images[lang]}"><img src="{images[lang]}" loading="lazy"></a></td>'
                        if lang in images else "<td>—</td>" for lang in languages)
        body.append(f"<tr><th>{html.escape(screen)}</th>{cells}</tr>")
    return f"""<!doctype html>
<meta charset="utf-8"><title>Kiosk screens ({panel})</title>
<style>body{{font-family:sans-serif}} img{{width:320px;border:1px solid #999}}
th{{text-align:left;vertical-align:top;font-size:12px}}</style>
<h1>Every screen, every language ({panel})</h1>
<table><tr><th>screen</th>{head}</tr>
{''.join(body)}
</table>
"""

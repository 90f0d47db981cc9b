"""Every screen, in every language, on both panels, with large text and high contrast on
and off: all text fits and stays readable, every touch target is at least 15 mm each
way, and no two overlap. Also what the accessibility modes promise a resident."""
from __future__ import annotations

import os

import pygame
import pytest
from babel.messages.pofile import read_po

from kiosk.fonts import LANGUAGE_FACE, covers
from kiosk.i18n import LANGUAGES
from kiosk.render import PANEL_7_INCH, PANEL_15_INCH, Renderer
from kiosk.screen_catalogue import every_view
from kiosk.screens import Button, View
from kiosk.translations import po_path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

# The panels' visible areas, in millimetres: the targets are measured on these.
PANELS = {(1024, 600): (154.0, 86.0), (1920, 1080): (332.0, 187.0)}
MODES = [(large, contrast) for large in (False, True) for contrast in (False, True)]
HEADER = [Button("lang:menu", "English", "header"), Button("a11y:text", "Large text", "header"),
          Button("a11y:contrast", "High contrast", "header")]


@pytest.fixture(scope="module", autouse=True)
def display():
    pygame.display.init()
    pygame.font.init()
    yield


def test_known_panels_are_the_kiosk_ones():
    assert Renderer(pygame.Surface((1024, 600))).panel == PANEL_7_INCH
    assert Renderer(pygame.Surface((1920, 1080))).panel == PANEL_15_INCH


@pytest.mark.parametrize("size", list(PANELS), ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_screen_fits(size, language):
    surface = pygame.Surface(size)
    renderer = Renderer(surface)
    mm_x, mm_y = size[0] / PANELS[size][0], size[1] / PANELS[size][1]
    screen = surface.get_rect()
    problems = []
    views = list(every_view(language))
    assert len(views) > 30
    for view in views:
        for large, contrast in MODES:
            view.large_text, view.high_contrast = large, contrast
            mode = f"{view.name}{' large' if large else ''}{' contrast' if contrast else ''}"
            targets = renderer.draw(view, 0.25)
            problems += [f"{mode}: text does not fit: {text!r}" for _, text in renderer.overflows]
            for i, (b, rect) in enumerate(targets):
                w_mm, h_mm = rect.width / mm_x, rect.height / mm_y
                if w_mm < 15 or h_mm < 15:
                    problems.append(f"{mode}: {b.label!r} is {w_mm:.1f} x {h_mm:.1f} mm")
                if not screen.contains(rect):
                    problems.append(f"{mode}: {b.label!r} runs off the screen")
                problems += [f"{mode}: {b.label!r} overlaps {o.label!r}" for o, r in targets[i + 1:]
                             if rect.colliderect(r)]
            shown = {b.action for b, _ in targets}
            expected = {b.action for b in view.buttons if view.prompt is None or b.style == "prompt"}
            if shown != expected:
                problems.append(f"{mode}: buttons not drawn: {expected - shown}")
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_translation_has_its_glyphs(language):
    """No empty boxes: the language's own typeface draws every message."""
    with open(po_path(language), "rb") as f:
        catalog = read_po(f, locale=language.split("_")[0])
    face = LANGUAGE_FACE[language]
    missing = [m.string for m in catalog if m.id and m.string and not covers(face, m.string)]
    assert not missing, f"{face} lacks glyphs for: {missing}"
    assert all(covers(LANGUAGE_FACE[code], name) for code, name in LANGUAGES.items())


def rgb(surface: pygame.Surface):
    return pygame.image.tobytes(surface, "RGB")


def ink_rows(surface: pygame.Surface, area: pygame.Rect, background) -> int:
    """How many pixel rows in `area` hold anything but the background."""
    rows = 0
    for y in range(area.top, area.bottom):
        if any(surface.get_at((x, y))[:3] != background for x in range(area.left, area.right, 2)):
            rows += 1
    return rows


def test_large_text_is_about_a_third_larger():
    surface = pygame.Surface((1024, 600))
    renderer = Renderer(surface)
    heights = []
    for large in (False, True):
        view = View("welcome", "Certificate issuance", ["HIJKLMNOP"], HEADER, large_text=large)
        renderer.draw(view, 0)
        background = surface.get_at((5, 590))[:3]
        heights.append(ink_rows(surface, pygame.Rect(20, 125, 400, 90), background))
    assert 1.25 < heights[1] / heights[0] < 1.45


def test_high_contrast_uses_black_white_and_yellow_only():
    surface = pygame.Surface((1024, 600))
    view = View("fee", "Fee", ["Copy of residence record"], [Button("back", "Back", "secondary"),
                Button("pay", "Pay")] + HEADER, warning="It cannot take ¥1,000 now.", big="¥400",
                high_contrast=True)
    Renderer(surface).draw(view, 0)
    pixels = rgb(surface)
    for i in range(0, len(pixels), 3 * 7):
        r, g, b = pixels[i], pixels[i + 1], pixels[i + 2]
        grey = max(r, g, b) - min(r, g, b) <= 6
        yellowish = b <= 6 and abs(g - r * 230 / 255) <= 6  # yellow, or yellow blended into black
        assert grey or yellowish or (r >= 250 and g >= 228), f"colour {(r, g, b)} at pixel {i // 3}"
    assert surface.get_at((512, 300))[:3] == (0, 0, 0)


def test_reminder_flashes_by_inverting_its_box():
    surface = pygame.Surface((1024, 600))
    renderer = Renderer(surface)
    view = View("take_card", "Take your card", ["Please take your My Number card from the reader."],
                HEADER, warning="Do not forget your card!", flash=True)
    shades = []
    for now in (0.1, 0.7):
        renderer.draw(view, now)
        box_inside = surface.get_at((900, 215))[:3]  # right end of the warning box, past its text
        shades.append(sum(box_inside))
    assert max(shades) - min(shades) > 400  # light and dark swap: seen without any colour


def test_a_ticked_box_shows_a_tick():
    surface = pygame.Surface((1024, 600))
    renderer = Renderer(surface)
    images = []
    for checked in (False, True):
        view = View("members", "Who should be on it?", [], [Button("member:m1", "山田　太郎", "check", checked)]
                    + HEADER)
        (_, tile), *_ = [(b, r) for b, r in renderer.draw(view, 0) if b.action == "member:m1"]
        box = pygame.Rect(tile.left + 24, tile.centery - 10, 20, 20)  # inside the tick box
        images.append([surface.get_at((x, y))[:3] for x in range(box.left, box.right)
                       for y in range(box.top, box.bottom)])
    changed = sum(a != b for a, b in zip(*images))
    assert changed > 40


def test_the_prompt_is_a_modal_box_with_only_its_answers():
    surface = pygame.Surface((1024, 600))
    view = View("paying", "Insert the fee", ["Insert coins or notes."],
                [Button("more_time", "Yes, more time", "prompt"), Button("end_now", "No, finish", "prompt"),
                 Button("cancel", "Cancel", "secondary")] + HEADER, prompt="Do you need more time?")
    targets = Renderer(surface).draw(view, 0)
    assert [b.action for b, _ in targets] == ["more_time", "end_now"]
    assert all(abs(rect.centery - 300) < 200 and rect.left > 20 for _, rect in targets)


def test_text_that_cannot_fit_is_reported():
    surface = pygame.Surface((1024, 600))
    renderer = Renderer(surface)
    renderer.draw(View("welcome", "Welcome", ["A very long sentence that keeps going. " * 80], HEADER), 0)
    assert renderer.overflows and renderer.overflows[0][0] == "welcome"
    crowded = [Button(f"b{i}", f"Button number {i}", "secondary") for i in range(12)]
    renderer.draw(View("crowded", "Crowded", [], crowded + HEADER), 0)
    assert renderer.overflows


def test_a_figure_too_wide_for_its_bar_is_reported():
    renderer = Renderer(pygame.Surface((1024, 600)))
    renderer.draw(View("paying", "Insert the fee", [], HEADER, big="¥1,000,000,000 / ¥2,000,000,000", progress=0.5), 0)
    assert renderer.overflows == [("paying", "¥1,000,000,000 / ¥2,000,000,000")]


def test_drawing_goes_on_after_pygame_was_quit_and_started_again():
    """Kept fonts die with pygame.quit(); a kiosk restarted in the same process (tests,
    maintenance's restart) must not meet them."""
    surface = pygame.Surface((1024, 600))
    views = list(every_view("ko"))[:3]
    Renderer(surface).draw(views[0], 0.0)
    pygame.quit()
    pygame.init()
    for view in views:
        Renderer(surface).draw(view, 0.0)

"""What a screen's first drawing costs, in what the renderer does rather than in time:
how often it measures text and how many font sizes it opens and keeps. A font size
open holds ~0.35 MB of its face's tables and loads its glyphs anew, so both decide
how long a new screen takes to appear and how much memory the kiosk holds."""
from __future__ import annotations

import pygame
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kiosk.render as render
from kiosk import fonts
from kiosk.i18n import LANGUAGES
from kiosk.render import Renderer
from kiosk.screen_catalogue import every_view

PARAGRAPH = ("住民票の写しには、世帯の全員または一部の人を載せることができます。本籍や続柄、マイナンバーを"
             "載せるかどうかも選べます。選んだ内容は印刷する前に画面で確かめることができます。") * 3


@pytest.fixture(scope="module", autouse=True)
def display():
    pygame.display.init()
    pygame.font.init()
    yield


class CountingFont:
    """A font that counts what it is asked to measure."""

    def __init__(self, face: str, size: int):
        self.font = fonts.font(face, size)
        self.measured = 0

    def size(self, text: str):
        self.measured += 1
        return self.font.size(text)


def greedy_lines(face: str, size: int, text: str, width: int, phrased: bool) -> tuple[str, ...]:
    """Lines filled a token at a time, each candidate line measured whole: what the
    screens have always looked like, kept here as the reference."""
    f = fonts.font(face, size)
    tokens = render._TOKENS.findall(text)
    if phrased:
        tokens = [part for phrase in render._PHRASES.findall(text)
                  for part in ([phrase] if f.size(phrase.rstrip())[0] <= width else render._TOKENS.findall(phrase))]
    lines, line = [], ""
    for token in tokens:
        if line and f.size((line + token).rstrip())[0] > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
        while len(line.rstrip()) > 1 and f.size(line.rstrip())[0] > width:
            cut = next(i for i in range(len(line), 0, -1) if f.size(line[:i])[0] <= width or i == 1)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return tuple(lines)


def test_a_paragraph_is_wrapped_with_a_few_measurements_a_line(monkeypatch):
    counting = CountingFont("ipaex", 30)
    monkeypatch.setattr(render, "font", lambda face, size: counting)
    lines = render._wrap.__wrapped__("ipaex", 30, PARAGRAPH, 560, False)
    assert lines == greedy_lines("ipaex", 30, PARAGRAPH, 560, False)
    assert len(lines) > 10
    assert counting.measured <= 4 * len(lines)  # a measurement per character would be ~30 a line


TEXT = st.text(alphabet=list("住民票の写しを発行します。「カード」（番号）、ぁっー abcdefghij KLMNOPQRST Tiếng Việt 1234,.!? W"),
               max_size=120)


@settings(max_examples=300, deadline=None)
@given(text=TEXT, face=st.sampled_from(["ipaex", "dejavu"]), size=st.sampled_from([14, 28, 40]),
       width=st.sampled_from([1, 8, 40, 120, 400, 900]), phrased=st.booleans())
def test_wrapping_breaks_lines_where_it_always_has(text, face, size, width, phrased):
    assert render._wrap.__wrapped__(face, size, text, width, phrased) == greedy_lines(face, size, text, width, phrased)


def test_the_language_picker_opens_few_font_sizes():
    """Its names, each in its own face, fit at no body scale: it is drawn at the
    smallest, found after trying two scales rather than every one."""
    renderer = Renderer(pygame.Surface((1024, 600)))
    views = every_view("ja")
    renderer.draw(next(views), now=0.0)  # welcome
    picker = next(views)
    assert picker.name == "language"
    fonts._font.cache_clear()
    renderer.draw(picker, now=0.0)
    assert fonts._font.cache_info().misses <= 10


def test_fonts_and_text_images_held_stay_bounded_and_a_redraw_opens_no_font():
    """Every screen in every language, in large text (the most sizes): what is kept
    stays bounded, yet a screen drawn again (a spinner turning) finds all its fonts open."""
    renderer = Renderer(pygame.Surface((1024, 600)))
    for language in LANGUAGES:
        for view in every_view(language):
            view.large_text = True
            renderer.draw(view, now=0.0)
            opened = fonts._font.cache_info().misses
            renderer.draw(view, now=0.0)
            assert fonts._font.cache_info().misses == opened, (language, view.name)
    assert fonts._font.cache_info().currsize <= 24
    assert render._IMAGES.held_bytes() <= 2 << 20

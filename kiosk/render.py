"""Draws a View with pygame and returns where each button is, for taps.

Sizes follow the screen height (a base of 600 units), so one layout serves a 7-inch
1024×600 panel and a 15-inch 1920×1080 one; touch targets are sized in millimetres
from the panel's physical size, never below 15 mm either way. Text that cannot be
drawn whole and readable is not clipped silently: `Renderer.overflows` names it.
"""
from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import pygame

from kiosk.fonts import face_for, font
from kiosk.i18n import LANGUAGES, translate
from kiosk.screens import Button, View, pin_mask

LARGE_TEXT_SCALE = 1.35
MIN_TARGET_MM = 15.0
MIN_TEXT = 20  # base units (about 3 mm on the 7-inch panel); large text keeps 1.35× this
BODY_SCALES = (1.0, 0.93, 0.86, 0.8, 0.74, 0.68)  # tried in turn until the body fits
FLASH_PERIOD_S = 1.2  # under 1 Hz: a reminder, never a strobe


@dataclass(frozen=True)
class Panel:
    """A display's visible area: the millimetres its pixels cover."""

    name: str
    width_mm: float
    height_mm: float


PANEL_7_INCH = Panel("7-inch 1024x600", 154.0, 86.0)
PANEL_15_INCH = Panel("15-inch 1920x1080", 332.0, 187.0)
KNOWN_PANELS = {(1024, 600): PANEL_7_INCH, (1920, 1080): PANEL_15_INCH}


def panel_for(size: tuple[int, int]) -> Panel:
    """A known kiosk panel, or a desktop window taken at 96 dpi."""
    w, h = size
    return KNOWN_PANELS.get((w, h)) or Panel(f"{w}x{h} at 96 dpi", w * 25.4 / 96, h * 25.4 / 96)


@dataclass(frozen=True)
class Theme:
    background: tuple
    text: tuple
    header: tuple
    header_text: tuple
    primary: tuple
    primary_text: tuple
    secondary: tuple
    secondary_text: tuple
    tile: tuple
    border: tuple
    warning: tuple
    warning_text: tuple
    accent: tuple
    line: int  # border width, base units


WHITE, BLACK, YELLOW = (255, 255, 255), (0, 0, 0), (255, 230, 0)
NORMAL = Theme(background=(250, 250, 246), text=(20, 20, 20), header=(22, 64, 120), header_text=WHITE,
               primary=(22, 96, 60), primary_text=WHITE, secondary=WHITE, secondary_text=(30, 30, 30),
               tile=(235, 238, 245), border=(60, 60, 60), warning=(255, 240, 200), warning_text=(20, 20, 20),
               accent=(22, 64, 120), line=2)
HIGH_CONTRAST = Theme(background=BLACK, text=WHITE, header=BLACK, header_text=YELLOW, primary=YELLOW,
                      primary_text=BLACK, secondary=BLACK, secondary_text=WHITE, tile=BLACK, border=WHITE,
                      warning=BLACK, warning_text=YELLOW, accent=YELLOW, line=5)

# Line breaking: Japanese and Chinese break between characters, but never before closing
# punctuation, a small kana or after an opening bracket; other scripts (Hangul included)
# break at spaces, and so does plain Japanese, written with spaces between phrases.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_OPEN = "「『（【〔〈《“‘"
_CLOSE = "、。，．・：；？！ー」』）】〕〉》”’…％ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ"
_PHRASES = re.compile(r"\S+\s*|\s+")
PHRASED = {"ja_easy"}
_TOKENS = re.compile(rf"[{_OPEN}]*[{_CJK}][{_CLOSE}]*\s*|[^\s{_CJK}]+[{_CLOSE}]*\s*|\s+")

BOTTOM_ROW = ("primary", "secondary")
TILES = ("choice", "check")


class TextImages:
    """Rendered lines of text, the most recently used kept up to `budget` bytes: a screen
    drawn again (a spinner, a digit typed, a flash) blits them instead of rendering
    them anew, and however many screens and languages pass, they hold a few screens'
    worth (a screen's text is 0.3-0.6 MB at 1024x600)."""

    def __init__(self, budget: int):
        self._images: OrderedDict[tuple, pygame.Surface] = OrderedDict()
        self._bytes, self._budget = 0, budget

    def get(self, face: str, size: int, text: str, colour: tuple) -> pygame.Surface:
        key = (face, size, text, colour)
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
            return image
        image = self._images[key] = font(face, size).render(text, True, colour)
        self._bytes += _nbytes(image)
        while self._bytes > self._budget and len(self._images) > 1:
            self._bytes -= _nbytes(self._images.popitem(last=False)[1])
        return image

    def held_bytes(self) -> int:
        return self._bytes


def _nbytes(image: pygame.Surface) -> int:
    return image.get_pitch() * image.get_height()


_IMAGES = TextImages(budget=2 << 20)


def _longest(fits, most: int, guess: int) -> int:
    """The largest n <= most with fits(n), given fits(0) and that fits, once false, stays
    false as n grows (a line only widens as it gets longer). Steps out from `guess` by
    doubling, then halves: a line costs a few measurements, not one per character."""
    if most < 1:
        return 0
    guess = max(1, min(guess, most))
    if fits(guess):
        good, step = guess, 1
        while good + step <= most and fits(good + step):
            good, step = good + step, step * 2
        bad = min(most + 1, good + step)
    else:
        bad, step = guess, 1
        while bad - step > 0 and not fits(bad - step):
            bad, step = bad - step, step * 2
        good = max(0, bad - step)
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if fits(mid) else (good, mid)
    return good


def _first_fitting(count: int, fits) -> int:
    """The first of `count` text sizes, largest first, for which fits(i) holds, else the
    last. Text never fits worse at a smaller size, so the first is tried, then the last,
    then halves: each size tried opens a font and loads its glyphs, which is what costs."""
    if fits(0) or count == 1:
        return 0
    unfit, fit = 0, count - 1
    if not fits(fit):
        return fit
    while fit - unfit > 1:
        mid = (unfit + fit) // 2
        unfit, fit = (unfit, mid) if fits(mid) else (mid, fit)
    return fit


@lru_cache(maxsize=4096)
def _wrap(face: str, size: int, text: str, width: int, phrased: bool) -> tuple[str, ...]:
    """The lines of `text` in `width` pixels (the same each frame, so kept): each line
    takes as many tokens as fit, and a token wider than the box is cut where it must be."""
    f = font(face, size)

    def fits(line: str) -> bool:
        return f.size(line)[0] <= width

    tokens = _TOKENS.findall(text)
    if phrased:  # whole phrases, split only when one is wider than the box
        tokens = [part for phrase in _PHRASES.findall(text)
                  for part in ([phrase] if fits(phrase.rstrip()) else _TOKENS.findall(phrase))]
    lines, line, i = [], "", 0
    taken = cut = 1  # a line's count is the best guess at the next one's
    while i < len(tokens):
        if not line:
            line, i = tokens[i], i + 1
        else:
            taken = _longest(lambda n: fits((line + "".join(tokens[i:i + n])).rstrip()), len(tokens) - i, taken)
            line, i = line + "".join(tokens[i:i + taken]), i + taken
            if i == len(tokens):
                break
            lines.append(line.rstrip())
            line, i = tokens[i].lstrip(), i + 1
        while len(line.rstrip()) > 1 and not fits(line.rstrip()):  # one word wider than the box
            cut = max(1, _longest(lambda n: fits(line[:n]), len(line) - 1, cut))
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return tuple(lines)


class Renderer:
    def __init__(self, surface: pygame.Surface, panel: Panel | None = None, demo_devices: bool = False):
        self.surface = surface
        self.demo_devices = demo_devices  # the config names stand-ins for hardware: every screen says so
        self.w, self.h = surface.get_size()
        self.panel = panel or panel_for((self.w, self.h))
        self.px_per_mm = (self.w / self.panel.width_mm, self.h / self.panel.height_mm)
        self.unit = self.h / 600
        self.target_w = math.ceil(MIN_TARGET_MM * self.px_per_mm[0])
        self.target_h = math.ceil(MIN_TARGET_MM * self.px_per_mm[1])
        self.overflows: list[tuple[str, str]] = []
        self.view: View | None = None
        self.theme = NORMAL
        self.text_scale = 1.0
        self.language: str | None = None

    def px(self, value: float) -> int:
        return round(value * self.unit)

    def tpx(self, value: float) -> int:
        """A text size in pixels, in the current text scale."""
        return round(value * self.unit * self.text_scale)

    def min_text(self) -> int:
        return self.tpx(MIN_TEXT)

    # --- the frame ---------------------------------------------------------------

    def draw(self, view: View, now: float) -> list[tuple[Button, pygame.Rect]]:
        self.view, self.overflows = view, []
        self.theme = HIGH_CONTRAST if view.high_contrast else NORMAL
        self.text_scale = LARGE_TEXT_SCALE if view.large_text else 1.0
        self.language = view.language
        self.surface.fill(self.theme.background)

        header_buttons = [b for b in view.buttons if b.style == "header"]
        row = [b for b in view.buttons if b.style in BOTTOM_ROW]
        targets: list[tuple[Button, pygame.Rect]] = []
        header, title_shown = self._header(view, header_buttons, targets, now)

        keypad_left = int(self.w * 0.58) if view.keypad else self.w
        row_rect = pygame.Rect(self.px(16), self.h - self.px(12) - self.row_height(),
                               keypad_left - self.px(32), self.row_height())
        if row:
            self._row(row, row_rect, targets)
        if view.keypad:
            keys = [b for b in view.buttons if b.style == "key"]
            targets += self._keypad(keys, keypad_left, header.bottom)
        body = pygame.Rect(self.px(24), header.bottom + self.px(14), keypad_left - self.px(48), 0)
        body.height = (row_rect.top - self.px(12) if row else self.h - self.px(12)) - body.top
        heading = None if title_shown else view.title
        self._body(view, body, self._body_scale(view, body, now, heading), now, targets, heading)

        if view.prompt:
            targets = self._prompt(view)
        self._check_targets(targets)
        return targets

    def row_height(self) -> int:
        return max(self.target_h, self.px(100))

    def _body_scale(self, view: View, body: pygame.Rect, now: float, heading: str | None) -> float:
        """The first of BODY_SCALES at which the body fits, else the last."""
        return BODY_SCALES[_first_fitting(
            len(BODY_SCALES), lambda i: self._body(view, body, BODY_SCALES[i], now, None, heading) <= body.bottom)]

    # --- text --------------------------------------------------------------------

    def _face(self, text: str, language: str | None = None) -> str:
        return face_for(text, language or self.language)

    def _width(self, text: str, size: int, language: str | None = None) -> int:
        return font(self._face(text, language), size).size(text)[0]

    def _linesize(self, text: str, size: int, language: str | None = None) -> int:
        return font(self._face(text, language), size).get_linesize()

    def _put(self, text: str, size: int, colour, pos, anchor="topleft", language=None) -> pygame.Rect:
        image = _IMAGES.get(self._face(text, language), size, text, tuple(colour))
        rect = image.get_rect(**{anchor: pos})
        self.surface.blit(image, rect)
        return rect

    def _wrap(self, text: str, size: int, width: int, language: str | None = None) -> list[str]:
        language = language or self.language
        return list(_wrap(self._face(text, language), size, text, width, language in PHRASED))

    def _fit(self, text: str, size: int, width: int, max_lines: int, language=None,
             max_height: int | None = None) -> tuple[int, list[str], bool]:
        """The largest size, down to the readable minimum, at which `text` fits; a size
        that would break a word in two counts as not fitting until the minimum."""
        floor = min(size, self.min_text())
        sizes = [*range(size, floor, -max(1, size // 20)), floor]
        words = _TOKENS.findall(text)
        tried: dict[int, tuple[list[str], bool]] = {}

        def fits(i: int) -> bool:
            sz = sizes[i]
            lines = self._wrap(text, sz, width, language)
            height = len(lines) * self._linesize(text, sz, language)
            tried[i] = lines, len(lines) <= max_lines and (max_height is None or height <= max_height) and \
                (sz <= floor or all(self._width(w.strip(), sz, language) <= width for w in words)) and \
                all(self._width(line, sz, language) <= width for line in lines)
            return tried[i][1]

        i = _first_fitting(len(sizes), fits)
        return sizes[i], *tried[i]

    def _overflow(self, text: str) -> None:
        item = (self.view.name, text)
        if item not in self.overflows:
            self.overflows.append(item)

    # --- header ------------------------------------------------------------------

    def _header(self, view: View, buttons: list[Button], targets, now: float) -> tuple[pygame.Rect, bool]:
        """The title bar; the title goes to the body when it cannot stay readable here."""
        t = self.theme
        header = pygame.Rect(0, 0, self.w, self.row_height() + self.px(12))
        inverted = view.flash and not view.warning and self._flash_on(now)
        pygame.draw.rect(self.surface, t.header_text if inverted else t.header, header)
        if view.high_contrast:
            pygame.draw.line(self.surface, t.accent, (0, header.bottom - 1), (self.w, header.bottom - 1),
                             self.px(t.line))
        x = self.w - self.px(12)
        for b in reversed(buttons):
            rect = self._header_button(b, x, header.centery)
            targets.append((b, rect))
            x = rect.left - self.px(10)
        left = self.px(20)
        fg = t.header if inverted else t.header_text
        if self.demo_devices:
            left = self._demo_mark(left, header.centery).right + self.px(12)
        if view.alert:
            left = self._alert_mark((left + self.px(22), header.centery), fg).right + self.px(12)
        width = x - self.px(10) - left
        size, lines, ok = self._fit(view.title, self.tpx(34), width, 2, max_height=header.height - self.px(8))
        if not ok:
            return header, False
        line_h = self._linesize(view.title, size)
        y = header.centery - len(lines) * line_h // 2
        for line in lines:
            y = self._put(line, size, fg, (left, y)).bottom
        return header, True

    def _header_button(self, b: Button, right: int, centery: int) -> pygame.Rect:
        t = self.theme
        icon = self.px(34) if b.action == "lang:menu" else 0
        size = self.tpx(22)
        max_label = self.px(200)
        size, lines, ok = self._fit(b.label, size, max_label, 2)
        if not ok:
            self._overflow(b.label)
        label_w = max(self._width(line, size) for line in lines)
        rect = pygame.Rect(0, 0, max(self.target_w, self.px(110), label_w + icon + self.px(28)), self.row_height())
        rect.midright = (right, centery)
        fill, fg = (t.header_text, t.header) if b.checked else (t.header, t.header_text)
        pygame.draw.rect(self.surface, fill, rect, border_radius=self.px(10))
        pygame.draw.rect(self.surface, t.header_text, rect, width=max(2, self.px(t.line)), border_radius=self.px(10))
        content_left = rect.centerx - (label_w + icon) // 2
        if icon:
            self._globe((content_left + icon // 2 - self.px(4), rect.centery), self.px(13), fg)
        if b.checked:  # the state shows as a tick, not by the fill alone
            self._tick(pygame.Rect(rect.left + self.px(6), rect.top + self.px(6), self.px(22), self.px(22)), fg)
        line_h = self._linesize(b.label, size)
        y = rect.centery - len(lines) * line_h // 2
        for line in lines:
            self._put(line, size, fg, (content_left + icon + label_w // 2, y), anchor="midtop")
            y += line_h
        return rect

    # --- the bottom row ----------------------------------------------------------

    def _row(self, buttons: list[Button], region: pygame.Rect, targets) -> None:
        gap = self.px(14)
        size = self.tpx(28)

        def natural(b: Button, lines_allowed: int) -> int:
            cue = self.px(30) if b.style == "primary" or b.action.startswith("page:") else 0
            base = self.px(220 if b.style == "primary" else 150)
            wrapped = self._wrap(b.label, size, self.px(360) if lines_allowed == 1 else self.px(200))
            widest = max((self._width(line, size) for line in wrapped[:lines_allowed]), default=0)
            if len(wrapped) > lines_allowed:
                widest = self._width(b.label, size)
            return max(self.target_w, base, widest + cue + self.px(36))

        # Page buttons stand at the left end, the screen's own actions at the right.
        buttons = sorted(buttons, key=lambda b: not b.action.startswith("page:"))
        pagers = sum(1 for b in buttons if b.action.startswith("page:"))
        widths = [natural(b, 1) for b in buttons]
        if sum(widths) + gap * (len(buttons) - 1) > region.width:
            widths = [natural(b, 2) for b in buttons]
        spare = region.width - gap * (len(buttons) - 1)
        if sum(widths) > spare:  # squeeze; labels shrink inside, and report if unreadable
            widths = [max(self.target_w, w * spare // sum(widths)) for w in widths]
        x = region.left
        for b, width in zip(buttons[:pagers], widths[:pagers]):
            targets.append((b, self._button(pygame.Rect(x, region.top, width, region.height), b, size)))
            x += width + gap
        x = region.right
        for b, width in reversed(list(zip(buttons[pagers:], widths[pagers:]))):
            rect = pygame.Rect(x - width, region.top, width, region.height)
            targets.append((b, self._button(rect, b, size)))
            x = rect.left - gap

    # --- buttons -----------------------------------------------------------------

    def _button(self, rect: pygame.Rect, b: Button, size: int, emphasis: bool | None = None) -> pygame.Rect:
        t = self.theme
        primary = b.style == "primary" if emphasis is None else emphasis
        fill, fg = (t.primary, t.primary_text) if primary else (t.secondary, t.secondary_text)
        if b.style == "key":
            fill, fg = t.tile, t.text
        radius = self.px(12)
        pygame.draw.rect(self.surface, fill, rect, border_radius=radius)
        line = self.px(t.line + (2 if primary else 0))
        pygame.draw.rect(self.surface, t.border if not primary or t is HIGH_CONTRAST else fill, rect,
                         width=max(2, line), border_radius=radius)
        inner = rect.inflate(-self.px(20), -self.px(12))
        if primary:  # a shape cue, so the main button is known without its colour
            cue = pygame.Rect(0, 0, self.px(18), self.px(30))
            cue.midright = (rect.right - self.px(14), rect.centery)
            self._chevron(cue, fg)
            inner.width -= self.px(26)
        if b.action.startswith("page:"):  # an arrow says which way the tiles turn
            icon = pygame.Rect(0, 0, self.px(22), self.px(20))
            icon.midleft = (rect.left + self.px(12), rect.centery)
            self._arrow(icon, fg, up=b.action == "page:prev")
            inner.left, inner.width = icon.right + self.px(6), rect.right - icon.right - self.px(14)
        self._label(b.label, size, fg, inner)
        return rect

    def _label(self, text: str, size: int, colour, box: pygame.Rect, language=None, align="center") -> None:
        size, lines, ok = self._fit(text, size, box.width, 2, language, max_height=box.height)
        if not ok:
            self._overflow(text)
        line_h = self._linesize(text, size, language)
        y = box.centery - len(lines) * line_h // 2
        for line in lines:
            if align == "center":
                self._put(line, size, colour, (box.centerx, y), anchor="midtop", language=language)
            else:
                self._put(line, size, colour, (box.left, y), language=language)
            y += line_h

    def _keypad(self, keys: list[Button], left: int, top: int) -> list[tuple[Button, pygame.Rect]]:
        gap = self.px(10)
        cols, rows = 3, max(1, -(-len(keys) // 3))
        width = (self.w - self.px(12) - left - gap * (cols - 1)) // cols
        height = (self.h - top - self.px(12) - gap * rows) // rows
        out = []
        for i, b in enumerate(keys):
            r, c = divmod(i, cols)
            rect = pygame.Rect(left + c * (width + gap), top + gap + r * (height + gap), width, height)
            out.append((b, self._button(rect, b, self.tpx(44 if len(b.label) == 1 else 30))))
        return out

    # --- the body: lines, warning, figure, tiles, spinner ------------------------

    def _body(self, view: View, region: pygame.Rect, scale: float, now: float, targets,
              heading: str | None) -> int:
        """Lays the body out at `scale`; draws only when `targets` is a list. Returns the bottom."""
        draw = targets is not None
        t = self.theme
        y = region.top

        def size(nominal: float) -> int:  # large text never shrinks below the normal size
            floor = self.px(nominal) if self.text_scale > 1 else self.min_text()
            return max(floor, round(self.tpx(nominal) * scale))

        def text_block(text: str, sz: int, colour, left: int, top: int, width: int) -> int:
            lines = self._wrap(text, sz, width)
            line_h = self._linesize(text, sz)
            if draw and top + len(lines) * line_h > region.bottom:
                self._overflow(text)
            for line in lines:
                if draw:
                    self._put(line, sz, colour, (left, top))
                top += line_h
            return top

        if heading:
            y = text_block(heading, size(34), t.text, region.left, y, region.width) + self.px(12)
        for line in view.lines:
            y = text_block(line, size(30), t.text, region.left, y, region.width) + round(self.px(8) * scale)
        if view.warning:
            sz = size(40 if view.flash else 28)  # a reminder is the point of its screen: larger
            y = self._warning(view, region, y + self.px(4), sz, now, draw, text_block) + self.px(10)
        if view.keypad:
            mask = pin_mask(view.pin_filled)
            sz = size(56)
            if draw:
                self._put(mask, sz, t.text, (region.left, y + self.px(6)))
            y += self._linesize(mask, sz) + self.px(12)
        y = self._figure(view, region, y, size, draw, targets)
        y = self._tiles(view, region, y, size, draw, targets)
        if view.spinner:
            room = region.bottom - y
            radius = self.px(34)
            if draw:
                self._spinner(now, (region.centerx, y + max(radius + self.px(6), room // 2)), radius)
            y += 2 * radius + self.px(12)
        return y

    def _warning(self, view: View, region: pygame.Rect, top: int, sz: int, now: float, draw: bool,
                 text_block) -> int:
        t = self.theme
        pad, icon = self.px(12), self.px(40)
        text_left = region.left + pad + icon + self.px(14)
        width = region.right - pad - text_left
        lines = self._wrap(view.warning, sz, width)
        line_h = self._linesize(view.warning, sz)
        box = pygame.Rect(region.left, top, region.width, max(self.px(64), len(lines) * line_h + 2 * pad))
        if not draw:
            return box.bottom
        inverted = view.flash and self._flash_on(now)  # blinks by inverting: seen without colour
        fill, fg = (t.warning_text, t.warning) if inverted else (t.warning, t.warning_text)
        pygame.draw.rect(self.surface, fill, box, border_radius=self.px(8))
        pygame.draw.rect(self.surface, t.border if not inverted else fill, box,
                         width=max(2, self.px(t.line + 1)), border_radius=self.px(8))
        self._alert_mark((region.left + pad + icon // 2, box.centery), fg)
        text_block(view.warning, sz, fg, text_left, box.centery - len(lines) * line_h // 2, width)
        return box.bottom

    def _figure(self, view: View, region: pygame.Rect, y: int, size, draw: bool, targets) -> int:
        """The large figure: alone, beside a progress bar, or between the − and + keys."""
        t = self.theme
        keys = [] if view.keypad else [b for b in view.buttons if b.style == "key"]
        if keys:
            key_w, key_h = max(self.target_w, self.px(110)), self.row_height()
            x = region.left
            slots = list(keys)
            if view.big and len(keys) == 2:
                slots.insert(1, None)
            for b in slots:
                if b is None:
                    sz = size(54)
                    width = self._width(view.big, sz) + self.px(48)
                    if draw:
                        self._put(view.big, sz, t.text, (x + width // 2, y + key_h // 2), anchor="center")
                    x += width
                    continue
                rect = pygame.Rect(x, y, key_w, key_h)
                if draw:
                    targets.append((b, self._button(rect, b, self.tpx(48))))
                x = rect.right + self.px(16)
            if draw and x - self.px(16) > region.right:
                self._overflow(view.big or keys[-1].label)
            y += key_h + self.px(12)
            if view.big and len(keys) != 2:
                y = self._big_text(view.big, size(54), region, y, draw)
            return y
        if view.progress is not None:
            sz = size(48)
            big = view.big or f"{round(view.progress * 100)} %"
            big_w = self._width(big, sz)
            bar_h = max(self.px(40), self._linesize(big, sz) - self.px(16))
            bar = pygame.Rect(region.left, y + self.px(8), region.width - big_w - self.px(24), bar_h)
            if draw:
                if bar.width < region.width // 3:  # the figure crowds out its bar
                    self._overflow(big)
                pygame.draw.rect(self.surface, t.background, bar)
                filled = bar.inflate(-self.px(8), -self.px(8))
                filled.width = round(filled.width * max(0.0, min(1.0, view.progress)))
                if filled.width:
                    pygame.draw.rect(self.surface, t.accent, filled)
                pygame.draw.rect(self.surface, t.border, bar, width=max(2, self.px(t.line + 1)))
                self._put(big, sz, t.text, (region.right, bar.centery), anchor="midright")
            return bar.bottom + self.px(16)
        if view.big:
            return self._big_text(view.big, size(64), region, y, draw)
        return y

    def _big_text(self, text: str, sz: int, region: pygame.Rect, y: int, draw: bool) -> int:
        if draw:
            rect = self._put(text, sz, self.theme.text, (region.left, y))
            if rect.right > region.right:
                self._overflow(text)
        return y + self._linesize(text, sz) + self.px(6)

    def _tiles(self, view: View, region: pygame.Rect, y: int, size, draw: bool, targets) -> int:
        tiles = [b for b in view.buttons if b.style in TILES]
        if not tiles:
            return y
        gap = self.px(12)
        area = pygame.Rect(region.left, y + self.px(4), region.width, region.bottom - y - self.px(4))
        n = len(tiles)
        label_sz, detail_sz = size(28), size(21)

        def grid(cols: int) -> tuple[int, int, int, int]:
            width = (area.width - gap * (cols - 1)) // cols if cols > 1 else min(area.width, self.px(760))
            tile_h = max(self._tile_height(b, width, label_sz, detail_sz) for b in tiles)
            rows = -(-n // cols)
            return rows * tile_h + (rows - 1) * gap, cols, width, tile_h

        # The fewest columns that fit; failing that, whichever comes closest.
        layouts = [grid(cols) for cols in ((1, 2, 3) if n <= 2 else (2, 3))]
        _, cols, width, tile_h = next((g for g in layouts if g[0] <= area.height), min(layouts))
        rows = -(-n // cols)
        for i, b in enumerate(tiles):
            r, c = divmod(i, cols)
            rect = pygame.Rect(area.left + c * (width + gap), area.top + r * (tile_h + gap), width, tile_h)
            if draw:
                targets.append((b, self._tile(rect, b, label_sz, detail_sz)))
        return area.top + rows * tile_h + (rows - 1) * gap + self.px(8)

    def _tile_language(self, b: Button) -> str | None:
        """The picker writes each language's name in its own face."""
        code = b.action.split(":", 1)[1] if b.action.startswith("lang:") else None
        return code if code in LANGUAGES else None

    def _tile_text_box(self, b: Button, rect: pygame.Rect) -> pygame.Rect:
        left = rect.left + self.px(14) + (self.px(52) if b.style == "check" else 0)
        return pygame.Rect(left, rect.top + self.px(8), rect.right - self.px(12) - left, rect.height - self.px(16))

    def _tile_height(self, b: Button, width: int, label_sz: int, detail_sz: int) -> int:
        box = self._tile_text_box(b, pygame.Rect(0, 0, width, self.row_height()))
        lang = self._tile_language(b)
        label = self._wrap(b.label, label_sz, box.width, lang)
        height = len(label) * self._linesize(b.label, label_sz, lang)
        if b.detail:
            height += len(self._wrap(b.detail, detail_sz, box.width)) * self._linesize(b.detail, detail_sz)
        return max(self.row_height(), height + self.px(18))

    def _tile(self, rect: pygame.Rect, b: Button, label_sz: int, detail_sz: int) -> pygame.Rect:
        t = self.theme
        radius = self.px(12)
        pygame.draw.rect(self.surface, t.tile, rect, border_radius=radius)
        pygame.draw.rect(self.surface, t.border, rect, width=max(2, self.px(t.line + (3 if b.checked else 0))),
                         border_radius=radius)
        if b.style == "check":
            box = pygame.Rect(0, 0, self.px(40), self.px(40))
            box.midleft = (rect.left + self.px(14), rect.centery)
            pygame.draw.rect(self.surface, t.background, box)
            pygame.draw.rect(self.surface, t.text, box, width=max(2, self.px(3)))
            if b.checked:
                self._tick(box.inflate(-self.px(8), -self.px(8)), t.text)
        text_box = self._tile_text_box(b, rect)
        lang = self._tile_language(b)
        if not b.detail:
            self._label(b.label, label_sz, t.text, text_box, lang, align="left")
            return rect
        label = self._wrap(b.label, label_sz, text_box.width, lang)
        detail = self._wrap(b.detail, detail_sz, text_box.width)
        label_h = self._linesize(b.label, label_sz, lang)
        detail_h = self._linesize(b.detail, detail_sz)
        y = rect.centery - (len(label) * label_h + len(detail) * detail_h) // 2
        for line in label:
            y = self._put(line, label_sz, t.text, (text_box.left, y), language=lang).top + label_h
        for line in detail:
            y = self._put(line, detail_sz, t.text, (text_box.left, y)).top + detail_h
        if y > rect.bottom:
            self._overflow(b.detail)
        return rect

    # --- the "need more time?" prompt ---------------------------------------------

    def _prompt(self, view: View) -> list[tuple[Button, pygame.Rect]]:
        t = self.theme
        shade = pygame.Surface((self.w, self.h), pygame.SRCALPHA)
        shade.fill((0, 0, 0, 235 if view.high_contrast else 150))
        self.surface.blit(shade, (0, 0))
        buttons = [b for b in view.buttons if b.style == "prompt"]
        box = pygame.Rect(0, 0, min(self.w - self.px(60), self.px(820)), 0)
        pad, gap = self.px(28), self.px(16)
        sz = self.tpx(36)
        text_w = box.width - 2 * pad - self.px(60)
        sz, lines, ok = self._fit(view.prompt, sz, text_w, 3)
        if not ok:
            self._overflow(view.prompt)
        line_h = self._linesize(view.prompt, sz)
        box.height = pad + max(self.px(48), len(lines) * line_h) + gap + self.row_height() + pad
        box.center = (self.w // 2, self.h // 2)
        pygame.draw.rect(self.surface, t.background, box, border_radius=self.px(14))
        pygame.draw.rect(self.surface, t.accent if view.high_contrast else t.border, box,
                         width=self.px(t.line + 3), border_radius=self.px(14))
        self._alert_mark((box.left + pad + self.px(20), box.top + pad + self.px(22)), t.text)
        y = box.top + pad
        for line in lines:
            y = self._put(line, sz, t.text, (box.left + pad + self.px(60), y)).bottom
        out = []
        width = (box.width - 2 * pad - gap * (len(buttons) - 1)) // max(1, len(buttons))
        for i, b in enumerate(buttons):  # the first answer is the one most residents want
            rect = pygame.Rect(box.left + pad + i * (width + gap), box.bottom - pad - self.row_height(),
                               width, self.row_height())
            out.append((b, self._button(rect, b, self.tpx(28), emphasis=i == 0)))
        return out

    # --- checks ------------------------------------------------------------------

    def _check_targets(self, targets: list[tuple[Button, pygame.Rect]]) -> None:
        screen = self.surface.get_rect()
        for i, (b, rect) in enumerate(targets):
            if not screen.contains(rect):
                self._overflow(b.label)
            for other, other_rect in targets[i + 1:]:
                if rect.colliderect(other_rect):
                    self._overflow(f"{b.label} / {other.label}")

    # --- shapes ------------------------------------------------------------------

    def _flash_on(self, now: float) -> bool:
        return (now % FLASH_PERIOD_S) < FLASH_PERIOD_S / 2

    def _demo_mark(self, left: int, centery: int) -> pygame.Rect:
        """A small boxed "demo devices" in the title bar's corner, before the title."""
        t = self.theme
        text = translate(self.language or "en", "Demo devices")
        size, lines, ok = self._fit(text, self.px(MIN_TEXT), self.px(160), 2)
        if not ok:
            self._overflow(text)
        pad, line_h = self.px(6), self._linesize(text, size)
        box = pygame.Rect(left, 0, max(self._width(line, size) for line in lines) + 2 * pad,
                          len(lines) * line_h + 2 * pad)
        box.centery = centery
        pygame.draw.rect(self.surface, t.warning, box, border_radius=self.px(6))
        pygame.draw.rect(self.surface, t.warning_text, box, width=max(2, self.px(2)), border_radius=self.px(6))
        for i, line in enumerate(lines):
            self._put(line, size, t.warning_text, (box.centerx, box.top + pad + i * line_h), anchor="midtop")
        return box

    def _alert_mark(self, centre: tuple[int, int], colour) -> pygame.Rect:
        """A circled "!": a problem is marked by a shape, never by colour alone."""
        mark = pygame.Rect(0, 0, self.px(40), self.px(40))
        mark.center = centre
        pygame.draw.circle(self.surface, colour, mark.center, mark.width // 2, width=max(2, self.px(4)))
        bar = pygame.Rect(0, 0, max(3, self.px(5)), self.px(16))
        bar.midtop = (mark.centerx, mark.top + self.px(8))
        pygame.draw.rect(self.surface, colour, bar)
        pygame.draw.circle(self.surface, colour, (mark.centerx, mark.bottom - self.px(10)), max(2, self.px(3)))
        return mark

    def _tick(self, box: pygame.Rect, colour) -> None:
        points = [(box.left, box.top + box.height * 0.55), (box.left + box.width * 0.4, box.bottom),
                  (box.right, box.top)]
        pygame.draw.lines(self.surface, colour, False, points, max(3, self.px(5)))

    def _chevron(self, box: pygame.Rect, colour) -> None:
        pygame.draw.lines(self.surface, colour, False, [box.topleft, (box.right, box.centery), box.bottomleft],
                          max(3, self.px(5)))

    def _arrow(self, box: pygame.Rect, colour, up: bool) -> None:
        tip, base = (box.top, box.bottom) if up else (box.bottom, box.top)
        pygame.draw.polygon(self.surface, colour, [(box.centerx, tip), (box.left, base), (box.right, base)])

    def _globe(self, centre: tuple[int, int], radius: int, colour) -> None:
        """A globe by the language button: found by someone who cannot read the label."""
        width = max(2, self.px(2))
        pygame.draw.circle(self.surface, colour, centre, radius, width)
        pygame.draw.ellipse(self.surface, colour, pygame.Rect(0, 0, radius, 2 * radius).move(
            centre[0] - radius // 2, centre[1] - radius), width)
        pygame.draw.line(self.surface, colour, (centre[0] - radius, centre[1]), (centre[0] + radius, centre[1]), width)

    def _spinner(self, now: float, centre: tuple[int, int], radius: int) -> None:
        start = (now * 4) % (2 * math.pi)
        box = pygame.Rect(0, 0, radius * 2, radius * 2)
        box.center = centre
        pygame.draw.arc(self.surface, self.theme.accent, box, start, start + 4.2, max(3, self.px(8)))

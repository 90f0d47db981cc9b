"""Draws a View with pygame and returns where each button is, for taps.

Sizes follow the screen height, so the same layout serves a 7-inch 1024×600 panel
and a 15-inch 1920×1080 one. Key targets are at least 15 mm on the 7-inch panel.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import pygame

from kiosk.screens import Button, View, pin_mask

FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)

BACKGROUND = (250, 250, 246)
HEADER = (22, 64, 120)
TEXT = (20, 20, 20)
PRIMARY = (22, 96, 60)
SECONDARY = (90, 90, 90)
KEY = (235, 238, 245)
WARNING_BG = (255, 240, 200)


class FontMissing(RuntimeError):
    pass


@lru_cache(maxsize=None)
def font(size: int) -> pygame.font.Font:
    for path in FONT_CANDIDATES:
        if path.exists():
            return pygame.font.Font(str(path), size)
    raise FontMissing("no Japanese font: install the Debian package fonts-ipaexfont-gothic")


class Renderer:
    def __init__(self, surface: pygame.Surface):
        self.surface = surface
        self.w, self.h = surface.get_size()
        self.unit = self.h / 600  # 1.0 on the 7-inch panel

    def px(self, value: float) -> int:
        return round(value * self.unit)

    def draw(self, view: View, now: float) -> list[tuple[Button, pygame.Rect]]:
        s = self.surface
        s.fill(BACKGROUND)
        header = pygame.Rect(0, 0, self.w, self.px(84))
        pygame.draw.rect(s, HEADER, header)
        title_left = self.px(24)
        if view.alert:
            title_left = self._alert_mark((self.px(44), header.centery), (255, 255, 255)).right + self.px(12)
        self._text(view.title, self.px(38), (255, 255, 255), (title_left, header.centery), anchor="midleft")

        targets: list[tuple[Button, pygame.Rect]] = []
        langs = [b for b in view.buttons if b.action.startswith("lang:")]
        keys = [b for b in view.buttons if b.style == "key"]
        choices = [b for b in view.buttons if b.style == "choice"]
        others = [b for b in view.buttons if b not in langs and b not in keys and b not in choices]

        x = self.w - self.px(16)
        for b in reversed(langs):
            rect = pygame.Rect(0, 0, self.px(150), self.px(64))
            rect.midright = (x, header.centery)
            targets.append((b, self._button(rect, b)))
            x = rect.left - self.px(10)

        text_right = self.w * (0.55 if view.keypad else 0.95)
        y = header.bottom + self.px(30)
        for line in view.lines:
            y = self._wrapped(line, self.px(30), TEXT, self.px(32), y, text_right) + self.px(10)
        if view.warning:
            y = self._warning(view.warning, y + self.px(6), text_right)
        if view.keypad:
            self._text(pin_mask(view.pin_filled), self.px(56), TEXT, (self.px(32), y + self.px(50)),
                       anchor="midleft")
            targets += self._keypad(keys, header.bottom)
        elif keys:
            for i, b in enumerate(keys):
                rect = pygame.Rect(self.w - self.px(32 + 120 * (len(keys) - i)), header.bottom + self.px(30),
                                   self.px(110), self.px(100))
                targets.append((b, self._button(rect, b)))
        for b in choices:
            rect = pygame.Rect(self.px(24), y + self.px(16), int(self.w * 0.7), self.px(100))
            targets.append((b, self._button(rect, b)))
            y = rect.bottom
        if view.spinner:
            self._spinner(now, (self.w // 2, int(self.h * 0.68)))

        x = (self.w * 0.55 if view.keypad else self.w) - self.px(24)
        for b in reversed(others):
            width = self.px(300 if b.style == "primary" else 200)
            rect = pygame.Rect(0, 0, width, self.px(100))
            rect.bottomright = (x, self.h - self.px(20))
            targets.append((b, self._button(rect, b)))
            x = rect.left - self.px(16)
        return targets

    # --- pieces ------------------------------------------------------------------

    def _text(self, text, size, colour, pos, anchor="topleft") -> pygame.Rect:
        image = font(size).render(text, True, colour)
        rect = image.get_rect(**{anchor: pos})
        self.surface.blit(image, rect)
        return rect

    def _lines(self, text: str, size: int, width: float) -> list[str]:
        """Wraps by character so Japanese (no spaces) wraps too."""
        f = font(size)
        lines, line = [], ""
        for ch in text:
            if line and f.size(line + ch)[0] > width:
                lines.append(line)
                line = ch.lstrip()
            else:
                line += ch
        return lines + [line] if line else lines

    def _wrapped(self, text: str, size: int, colour, left: int, top: int, right: float) -> int:
        """Draws wrapped text; returns the bottom."""
        for line in self._lines(text, size, right - left):
            top = self._text(line, size, colour, (left, top)).bottom
        return top

    def _alert_mark(self, centre: tuple[int, int], colour) -> pygame.Rect:
        """A circled "!": a problem is marked by a shape, never by colour alone."""
        mark = pygame.Rect(0, 0, self.px(40), self.px(40))
        mark.center = centre
        pygame.draw.circle(self.surface, colour, mark.center, mark.width // 2, width=max(2, self.px(3)))
        self._text("!", self.px(30), colour, mark.center, anchor="center")
        return mark

    def _warning(self, text: str, top: int, right: float) -> int:
        left, pad, size = self.px(24), self.px(12), self.px(28)
        text_left = left + pad + self.px(40) + self.px(12)
        lines = self._lines(text, size, right - pad - text_left)
        line_h = font(size).get_linesize()
        box = pygame.Rect(left, top, int(right) - left, max(self.px(64), len(lines) * line_h + 2 * pad))
        pygame.draw.rect(self.surface, WARNING_BG, box, border_radius=self.px(8))
        pygame.draw.rect(self.surface, TEXT, box, width=max(2, self.px(3)), border_radius=self.px(8))
        self._alert_mark((left + pad + self.px(20), box.centery), TEXT)
        y = box.centery - len(lines) * line_h // 2
        for line in lines:
            y = self._text(line, size, TEXT, (text_left, y)).bottom
        return box.bottom

    def _button(self, rect: pygame.Rect, b: Button) -> pygame.Rect:
        fill, fg = {"primary": (PRIMARY, (255, 255, 255)), "secondary": ((255, 255, 255), SECONDARY),
                    "key": (KEY, TEXT), "choice": (KEY, TEXT)}[b.style]
        pygame.draw.rect(self.surface, fill, rect, border_radius=self.px(12))
        pygame.draw.rect(self.surface, TEXT if b.style != "primary" else PRIMARY, rect,
                         width=max(2, self.px(2)), border_radius=self.px(12))
        size = self.px(40 if b.style == "key" and len(b.label) == 1 else 32 if b.style == "choice" else 28)
        while font(size).size(b.label)[0] > rect.width - self.px(16) and size > 12:
            size -= 2
        self._text(b.label, size, fg, rect.center, anchor="center")
        return rect

    def _keypad(self, keys: list[Button], top: int) -> list[tuple[Button, pygame.Rect]]:
        left = int(self.w * 0.58)
        gap = self.px(10)
        cols, rows = 3, 4
        width = (self.w - self.px(20) - left - gap * (cols - 1)) // cols
        height = (self.h - top - self.px(20) - gap * rows) // rows
        out = []
        for i, b in enumerate(keys):
            r, c = divmod(i, cols)
            rect = pygame.Rect(left + c * (width + gap), top + gap + r * (height + gap), width, height)
            out.append((b, self._button(rect, b)))
        return out

    def _spinner(self, now: float, centre: tuple[int, int]) -> None:
        radius = self.px(40)
        start = (now * 4) % (2 * math.pi)
        box = pygame.Rect(0, 0, radius * 2, radius * 2)
        box.center = centre
        pygame.draw.arc(self.surface, HEADER, box, start, start + 4.2, max(3, self.px(8)))

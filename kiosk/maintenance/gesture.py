"""The way into maintenance mode: hold the top-left corner of the screen for 5 s, let
go, then touch the bottom-left corner within 2 s.

Neither corner holds a button, and a resident who rests a hand on the screen does not
lift it and touch the far corner within two seconds. The caller accepts the gesture
only on the welcome screen.
"""
from __future__ import annotations

HOLD_S = 5.0
SECOND_TOUCH_WITHIN_S = 2.0
CORNER = 0.15  # a corner is this share of the screen height, square


class CornerGesture:
    def __init__(self, screen_size: tuple[int, int]):
        self.w, self.h = screen_size
        self.side = round(self.h * CORNER)
        self._down_at: float | None = None  # the top-left corner was touched then
        self._armed_until: float | None = None  # the hold is done: the second touch is due

    def _in_top_left(self, pos) -> bool:
        return pos[0] < self.side and pos[1] < self.side

    def _in_bottom_left(self, pos) -> bool:
        return pos[0] < self.side and pos[1] >= self.h - self.side

    def down(self, pos, now: float) -> bool:
        """A finger touched the screen; True if that completes the gesture."""
        armed, self._armed_until = self._armed_until, None
        if armed is not None and now <= armed and self._in_bottom_left(pos):
            return True
        self._down_at = now if self._in_top_left(pos) else None
        return False

    def up(self, pos, now: float) -> None:
        held_from, self._down_at = self._down_at, None
        if held_from is not None and self._in_top_left(pos) and now - held_from >= HOLD_S:
            self._armed_until = now + SECOND_TOUCH_WITHIN_S

    def reset(self) -> None:
        self._down_at = self._armed_until = None

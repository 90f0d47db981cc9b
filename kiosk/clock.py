"""The kiosk's wall clock, in Japan time: what the screens, receipts and journal say
and what the national service window is checked against.

A real kiosk reads the system clock. The demo may *play* another moment (a weekday
morning when it is run at night), and then every part of the kiosk and the embedded
center reads that same played clock, running on from the moment it was started.
Intervals (timeouts, chimes) never use this clock: they use time.monotonic().
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

JST = dt.timezone(dt.timedelta(hours=9), "JST")


@dataclass(frozen=True)
class WallClock:
    played_from: dt.datetime | None = None  # None: the real clock
    _started: float = field(default_factory=time.monotonic, compare=False)

    @classmethod
    def real(cls) -> "WallClock":
        return cls()

    @classmethod
    def playing(cls, start: dt.datetime) -> "WallClock":
        """A clock that reads `start` now and runs on in real time from there."""
        if start.tzinfo is None:
            start = start.replace(tzinfo=JST)
        return cls(start.astimezone(JST))

    @property
    def played(self) -> bool:
        return self.played_from is not None

    def now(self) -> dt.datetime:
        if self.played_from is None:
            return dt.datetime.now(JST)
        return self.played_from + dt.timedelta(seconds=time.monotonic() - self._started)

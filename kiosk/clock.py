"""The kiosk's wall clock, in Japan time: what the screens, receipts and journal say
and what the national service window is checked against.

A real kiosk reads the system clock. The demo may *play* another moment (a weekday
morning when it is run at night): the played clock is the real one plus a fixed
offset, so the kiosk and the embedded center, given the same offset, read the same
time in two processes. Intervals (timeouts, chimes) never use this clock: they use
time.monotonic().
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contract.service_window import JST


@dataclass(frozen=True)
class WallClock:
    offset: dt.timedelta = dt.timedelta(0)  # zero: the real clock

    @classmethod
    def real(cls) -> "WallClock":
        return cls()

    @classmethod
    def playing(cls, start: dt.datetime) -> "WallClock":
        """A clock that reads `start` now and runs on in real time from there."""
        if start.tzinfo is None:
            start = start.replace(tzinfo=JST)
        return cls(start - dt.datetime.now(dt.timezone.utc))

    @property
    def played(self) -> bool:
        return self.offset != dt.timedelta(0)

    def now(self) -> dt.datetime:
        return (dt.datetime.now(dt.timezone.utc) + self.offset).astimezone(JST)

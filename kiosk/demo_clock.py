"""Which wall clock `kiosk demo` runs on, decided once at start.

The real one when a resident could really be served now: inside the national
service window and within every seed municipality's hours on a day it is open.
Otherwise the demo plays the next weekday 10:00 in Japan on which every seed
municipality serves every document (戸籍 included), so it prints at any hour. The
kiosk and its embedded center share the played clock (kiosk.clock), so the screens,
receipt, journal and certificate all read the same moment.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from contract import service_window as national
from kiosk.clock import JST, WallClock
from municipal.registry import Registry
from municipal.rules import family_register_open, service_hours, service_open

PLAYED_TIME = dt.time(10, 0)  # inside every seed municipality's hours, 戸籍 (weekdays 09:00-17:00) too
SEARCH_DAYS = 60  # year-end closing plus maintenance days never come near this


@dataclass(frozen=True)
class DemoClock:
    clock: WallClock
    note: str | None = None  # the one line the demo prints at start when it plays a moment


def japan_time(text: str) -> dt.datetime:
    """An ISO moment; without a zone it is Japan time."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=JST)


def demo_clock(data_dir: Path, *, real_calendar: bool = False, at: dt.datetime | None = None,
               now: dt.datetime | None = None) -> DemoClock:
    """`at`: play that moment (`--at`); `real_calendar`: the real clock whatever the hour."""
    if real_calendar:
        return DemoClock(WallClock.real())
    if at is not None:
        return DemoClock(WallClock.playing(at), f"kiosk demo: the demo plays {_moment(at)} (--at).")
    now = (now or dt.datetime.now(JST)).astimezone(JST)
    municipalities = _municipalities(data_dir)
    why_not = _why_not_served(municipalities, now)
    if why_not is None:
        return DemoClock(WallClock.real())
    played = _next_full_service_morning(municipalities, now)
    return DemoClock(WallClock.playing(played),
                     f"kiosk demo: {why_not}; the demo plays {_moment(played)}. --real-calendar runs the real clock.")


def _municipalities(data_dir: Path) -> list:
    with Registry(data_dir / "registry.sqlite").reading() as conn:
        return conn.execute("SELECT * FROM municipalities ORDER BY code").fetchall()


def _why_not_served(municipalities: list, now: dt.datetime) -> str | None:
    """Why a resident could not be served at `now`, in words; None if every one could."""
    if national.closed_day(now.date()):
        return f"{now:%a %Y-%m-%d} is a year-end day, when the store service is closed"
    if not national.is_open(now):
        return f"{now:%H:%M} in Japan is outside the service hours ({national.HOURS})"
    for m in municipalities:
        if service_open(m, now):
            continue
        if service_hours(m).covers(now):
            return f"{now:%a %Y-%m-%d} is a closed day of {m['name']}"
        return f"{now:%H:%M} in Japan is outside the hours of {m['name']} ({service_hours(m).text()})"
    return None


def _next_full_service_morning(municipalities: list, now: dt.datetime) -> dt.datetime:
    day = now.date() if now.time() < PLAYED_TIME else now.date() + dt.timedelta(days=1)
    for _ in range(SEARCH_DAYS):
        moment = dt.datetime.combine(day, PLAYED_TIME, JST)
        if national.is_open(moment) and all(family_register_open(m, moment) for m in municipalities):
            return moment  # family_register_open: a weekday on which the municipality is open too
        day += dt.timedelta(days=1)
    raise RuntimeError(f"no weekday in the next {SEARCH_DAYS} days on which every seed municipality is open")


def _moment(moment: dt.datetime) -> str:
    return f"{moment.astimezone(JST):%a %Y-%m-%d %H:%M} JST"

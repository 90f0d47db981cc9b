"""The national store-service window: when any convenience-store terminal may serve
certificates at all, whatever the municipality.

The real service (コンビニ交付, run by J-LIS) is open 6:30-23:00 Japan time every day and
closed from 29 December to 3 January (see /work/shared/docs/konbini-service.md,
"Hours and fees"). Its maintenance days are announced case by case and each
municipality's own hours, closed days and year-end days are narrower still: the
center applies those after the PIN (`municipal/rules.py`), the kiosk checks this
window before it takes a card.
"""
from __future__ import annotations

import datetime as dt

JST = dt.timezone(dt.timedelta(hours=9), "JST")  # Japan keeps no daylight saving time
OPENS = dt.time(6, 30)
CLOSES = dt.time(23, 0)
YEAR_END = ((12, 29), (1, 3))  # (month, day) of the first and last closed day
HOURS = f"{OPENS:%H:%M}-{CLOSES:%H:%M}"


def _in_japan(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:  # a naive time would silently be the host's zone
        raise ValueError("the service window needs an aware datetime")
    return moment.astimezone(JST)


def closed_day(day: dt.date) -> bool:
    """One of the year-end days, closed all day."""
    first, last = YEAR_END
    return (day.month, day.day) >= first or (day.month, day.day) <= last


def is_open(moment: dt.datetime) -> bool:
    moment = _in_japan(moment)
    return not closed_day(moment.date()) and OPENS <= moment.time() < CLOSES


def next_opening(moment: dt.datetime) -> dt.datetime:
    """The first moment at or after `moment` when the window is open (`moment` itself
    if it is open), in Japan time."""
    moment = _in_japan(moment)
    if is_open(moment):
        return moment
    day = moment.date()
    if moment.time() >= OPENS or closed_day(day):
        day += dt.timedelta(days=1)
    while closed_day(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, OPENS, tzinfo=JST)

"""The national store-service window: 06:30-23:00 Japan time, closed 29 December to 3 January."""
from __future__ import annotations

import datetime as dt

import pytest

from contract.service_window import JST, is_open, next_opening


def japan(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


@pytest.mark.parametrize("moment, open_", [
    ("2026-11-24 06:29:59", False),
    ("2026-11-24 06:30:00", True),
    ("2026-11-24 22:59:59", True),
    ("2026-11-24 23:00:00", False),
    ("2026-11-28 12:00:00", True),  # a Saturday: every day, not only weekdays
    ("2026-12-28 22:59:00", True),
    ("2026-12-29 12:00:00", False),
    ("2027-01-01 12:00:00", False),
    ("2027-01-03 22:00:00", False),
    ("2027-01-04 06:30:00", True),
])
def test_open_hours_and_year_end_days(moment, open_):
    assert is_open(japan(moment)) is open_


@pytest.mark.parametrize("moment, opens", [
    ("2026-11-24 03:58", "2026-11-24 06:30"),  # before dawn: the same day
    ("2026-11-24 23:58", "2026-11-25 06:30"),  # late at night: the next morning
    ("2026-12-28 23:30", "2027-01-04 06:30"),  # the night before the year-end days
    ("2026-12-31 10:00", "2027-01-04 06:30"),
    ("2027-01-03 23:59", "2027-01-04 06:30"),
])
def test_next_opening_when_closed(moment, opens):
    assert next_opening(japan(moment)) == japan(opens)


def test_open_now_opens_now():
    assert next_opening(japan("2026-11-24 10:00")) == japan("2026-11-24 10:00")


def test_other_zones_are_read_in_japan_time():
    utc_evening = dt.datetime(2026, 11, 24, 21, 40, tzinfo=dt.timezone.utc)  # 06:40 the next day in Japan
    assert is_open(utc_evening)
    assert next_opening(utc_evening).tzinfo is not None and next_opening(utc_evening).hour == 6


def test_a_naive_time_is_refused_rather_than_read_in_the_hosts_zone():
    with pytest.raises(ValueError):
        is_open(dt.datetime(2026, 11, 24, 10, 0))

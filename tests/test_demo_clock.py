"""One clock for the demo: `kiosk demo` prints at any hour by playing a weekday
morning, and the kiosk and its embedded center read the same played moment on the
certificate, the receipt, the journal and the center's manifest."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from kiosk.clock import JST
from kiosk.demo_clock import demo_clock
from kiosk.journal import Journal
from tests.kiosk_runs import pdf_text, run_kiosk

MONDAY = dt.date(2026, 12, 7)  # every seed municipality open, 戸籍 included


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), JST)


def demo(stub_data, out, *extra):
    return run_kiosk("demo", "--headless", "--autopilot", "--data", str(stub_data), *extra, out=out)


def test_a_played_morning_is_the_date_on_the_certificate_the_receipt_the_journal_and_the_manifest(
        stub_data, tmp_path):
    run = demo(stub_data, tmp_path / "out", "--at", "2026-12-07T10:00")
    assert run.returncode == 0, run.output
    assert "the demo plays Mon 2026-12-07 10:00 JST" in run.output
    [pdf] = run.printed()
    assert "令和8年12月7日" in pdf_text(pdf)  # the certificate's issue date, in the Japanese era
    [receipt] = (run.out / "printed").glob("receipt-*.txt")
    assert "2026年12月7日(月) 10:0" in receipt.read_text(encoding="utf-8")
    journal = run.out / "kiosk-journal.sqlite"
    with sqlite3.connect(journal) as db:
        days = {dt.datetime.fromtimestamp(at_, JST).date() for (at_,) in db.execute("SELECT at FROM steps")}
    assert days == {MONDAY}
    assert Journal(journal).day_totals(MONDAY)["documents"] == 1  # the staff screen's day is that day
    with sqlite3.connect(stub_data / "registry.sqlite") as db:
        [(manifest,)] = db.execute("SELECT manifest FROM issuances").fetchall()
    # What the public verification site answers for the printed code: the same day.
    assert dt.datetime.fromisoformat(json.loads(manifest)["issued_at"]).astimezone(JST).date() == MONDAY


def test_a_played_night_is_closed_and_prints_nothing(stub_data, tmp_path):
    run = demo(stub_data, tmp_path / "out", "--at", "2026-12-07T03:00", "--language", "en")
    assert run.returncode == 2, run.output
    assert "autopilot: closed" in run.output
    assert "06:30" in run.text_of("closed")  # when it opens
    assert run.printed() == []


def test_at_night_the_demo_plays_that_weekday_morning_and_says_so_in_one_line(stub_data):
    played = demo_clock(stub_data, now=at(MONDAY, 4, 2))
    assert played.note == ("kiosk demo: 04:02 in Japan is outside the service hours (06:30-23:00); "
                           "the demo plays Mon 2026-12-07 10:00 JST. --real-calendar runs the real clock.")
    assert abs(played.clock.now() - at(MONDAY, 10)) < dt.timedelta(minutes=1)


@pytest.mark.parametrize(("now", "plays"), [
    (at(dt.date(2026, 12, 5), 3), at(MONDAY, 10)),  # Saturday night: the weekend is skipped
    (at(MONDAY, 23, 30), at(dt.date(2026, 12, 8), 10)),  # after hours: the next morning
    (at(MONDAY, 21), at(dt.date(2026, 12, 8), 10)),  # the national window is open, 架空県しらかわ村 is not
    (at(dt.date(2026, 12, 30), 12), at(dt.date(2027, 1, 4), 10)),  # year-end days
])
def test_outside_anyone_s_hours_the_demo_plays_the_next_weekday_morning(stub_data, now, plays):
    played = demo_clock(stub_data, now=now)
    assert played.clock.played and f"plays {plays:%a %Y-%m-%d %H:%M} JST" in played.note
    assert abs(played.clock.now() - plays) < dt.timedelta(minutes=1)


def test_a_maintenance_day_of_any_seed_municipality_is_not_played(stub_data):
    with sqlite3.connect(stub_data / "registry.sqlite") as db:
        db.execute("UPDATE municipalities SET maintenance_days = ? WHERE code = '999002'",
                   (json.dumps([MONDAY.isoformat()]),))
    assert "plays Tue 2026-12-08 10:00 JST" in demo_clock(stub_data, now=at(MONDAY, 4)).note
    assert "is a closed day of 架空県あおば町" in demo_clock(stub_data, now=at(MONDAY, 11)).note


def test_within_every_hour_the_demo_runs_the_real_clock_and_real_calendar_always_does(stub_data):
    assert demo_clock(stub_data, now=at(MONDAY, 11)).clock.played is False
    assert demo_clock(stub_data, now=at(MONDAY, 11)).note is None
    assert demo_clock(stub_data, real_calendar=True, now=at(MONDAY, 3)).clock.played is False

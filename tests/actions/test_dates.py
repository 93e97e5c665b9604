"""Natural dates to ISO dates, as the time-off and expense forms parse them."""

from __future__ import annotations

from datetime import date

import pytest

from actions.dates import parse_date, parse_range

SAT = date(2026, 11, 21)  # a Saturday
WED = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "today", "start", "end"),
    [
        ("next Friday", SAT, "2026-11-27", "2026-11-27"),
        ("I need next Friday off", SAT, "2026-11-27", "2026-11-27"),
        ("friday", WED, "2026-11-27", "2026-11-27"),
        ("next friday", date(2026, 11, 27), "2026-12-04", "2026-12-04"),
        ("tomorrow", SAT, "2026-11-22", "2026-11-22"),
        ("Dec 3 to 7", SAT, "2026-12-03", "2026-12-07"),
        ("Dec 3-7", SAT, "2026-12-03", "2026-12-07"),
        ("December 3rd - December 7th", SAT, "2026-12-03", "2026-12-07"),
        ("from the 3rd until the 7th", SAT, "2026-12-03", "2026-12-07"),
        ("between dec 3 and dec 5", SAT, "2026-12-03", "2026-12-05"),
        ("monday through wednesday", SAT, "2026-11-23", "2026-11-25"),
        ("take the whole of next week off", SAT, "2026-11-23", "2026-11-27"),
        ("from monday for 3 days", SAT, "2026-11-23", "2026-11-25"),
        ("dec 3 for two weeks", SAT, "2026-12-03", "2026-12-16"),
        ("2026-12-03 to 2026-12-05", SAT, "2026-12-03", "2026-12-05"),
        ("Dec 28 to Jan 3", SAT, "2026-12-28", "2027-01-03"),
        ("Dec 28 to 3", SAT, "2026-12-28", "2027-01-03"),
        ("actually make it thursday", SAT, "2026-11-26", "2026-11-26"),
        ("no, change the end date to the 9th", SAT, "2026-12-09", "2026-12-09"),
        ("the 14th", SAT, "2026-12-14", "2026-12-14"),
        ("Jan 5", SAT, "2027-01-05", "2027-01-05"),
        ("Nov 15", SAT, "2026-11-15", "2026-11-15"),  # recent past stays this year (sick leave)
    ],
)
def test_ranges(text, today, start, end):
    rng = parse_range(text, today=today, prefer="future")
    assert rng is not None, text
    assert (rng.start.isoformat(), rng.end.isoformat()) == (start, end)


@pytest.mark.parametrize("text", ["I may need a day off", "december", "sometime soon", "", "42 euros"])
def test_no_date(text):
    assert parse_range(text, today=SAT) is None


def test_past_preference_for_receipts():
    assert parse_date("friday", today=SAT, prefer="past") == date(2026, 11, 20)
    assert parse_date("last friday", today=SAT, prefer="past") == date(2026, 11, 20)
    assert parse_date("yesterday", today=SAT) == date(2026, 11, 20)
    assert parse_date("Dec 3", today=SAT, prefer="past") == date(2026, 12, 3)  # nearest: refused as future
    assert parse_date("Oct 3", today=SAT, prefer="past") == date(2026, 10, 3)


def test_impossible_dates_are_not_dates():
    assert parse_date("2026-02-30", today=SAT) is None
    assert parse_range("2026-02-30 to 2026-03-02", today=SAT) is None

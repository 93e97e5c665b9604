"""Natural dates to ISO dates, as the time-off and expense forms parse them."""

from __future__ import annotations

from datetime import date

import pytest

from actions.dates import impossible_date, parse_date, parse_range

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


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Feb 30", "There is no 30 February."),
        ("from February 30 to March 2", "There is no 30 February."),
        ("31 Nov", "There is no 31 November."),
        ("the 31st of april", "There is no 31 April."),
        ("Feb 29", "There is no 29 February in 2026 (the next one is in 2028)."),
        ("Feb 29, 2027", "There is no 29 February in 2027."),
        ("2026-13-01", "2026-13-01 is not a date: there is no month 13."),
        ("2026-02-29", "2026-02-29 is not a date: February 2026 has 28 days."),
    ],
)
def test_impossible_dates_get_a_reason(text, reason):
    assert impossible_date(text, today=SAT) == reason


@pytest.mark.parametrize("text", ["Dec 31", "Feb 29, 2028", "3 decks and 32 marbles", "2026-12-03", "the 31st", ""])
def test_possible_dates_and_other_numbers_have_no_complaint(text):
    assert impossible_date(text, today=SAT) is None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("the week of Dec 16", "2026-12-14", "2026-12-18"),  # Monday to Friday around a Wednesday
        ("I'd like the week starting Jan 4 off", "2027-01-04", "2027-01-08"),
        ("tomorrow and the day after", "2026-11-22", "2026-11-23"),
        ("Dec 3 and the day after", "2026-12-03", "2026-12-04"),
        ("I want the 3rd of may off", "2027-05-03", "2027-05-03"),  # not "the 3rd" of this month
    ],
)
def test_weeks_and_day_after(text, start, end):
    rng = parse_range(text, today=SAT, prefer="future")
    assert rng is not None and (rng.start.isoformat(), rng.end.isoformat()) == (start, end)


def test_29_february_is_fine_when_a_leap_year_is_near():
    assert impossible_date("Feb 29", today=date(2027, 11, 20)) is None  # next February is 2028's
    assert impossible_date("Feb 29", today=date(2028, 3, 10)) is None  # a receipt from last month

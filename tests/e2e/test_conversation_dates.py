"""The scripted conversations' date placeholders: the same weekdays whatever day the suite runs."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import yaml

from tests.e2e.conversation import render, working_day_after
from workflows.models import working_days

SPEC = yaml.safe_load((Path(__file__).parent / "conversations.yml").read_text())
WEEK = [date(2026, 11, 23) + timedelta(days=i) for i in range(7)]  # Monday to Sunday


def test_plain_placeholders_count_from_today():
    today = date(2026, 11, 26)
    assert render("{iso-1} {day+5} {long+0}", today) == "2026-11-25 Dec 1 Thu 26 Nov 2026"


def test_monday_placeholders_fall_on_the_same_weekday_whichever_day_it_is():
    for today in WEEK:
        assert date.fromisoformat(render("{iso:mon+0}", today)).weekday() == 0
        assert date.fromisoformat(render("{iso:mon+0}", today)) >= today
        assert date.fromisoformat(render("{iso:mon-2}", today)) < today
        for offset in (3, 10, -2, -45):
            d = date.fromisoformat(render(f"{{iso:mon{offset:+d}}}", today))
            assert d.weekday() == offset % 7 and d.strftime("%b %-d") == render(f"{{day:mon{offset:+d}}}", today)


def test_every_scripted_time_off_has_a_working_day():
    spans = [s["request"]["details"] for s in SPEC if s.get("request", {}).get("kind") == "time_off"]
    assert spans
    for today in WEEK:
        for details in spans:
            start, end = (date.fromisoformat(render(details[k], today)) for k in ("start_date", "end_date"))
            assert working_days(start, end) > 0, (today, details)


def test_working_day_after_skips_weekends():
    assert [working_day_after(WEEK[0], n).weekday() for n in range(7)] == [0, 1, 2, 3, 4, 0, 0]
    assert working_day_after(WEEK[0], 5) == date(2026, 11, 30)

"""When a weekly digest goes out: a weekday and a wall-clock time on the person's own clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def iso_week(day: date) -> str:
    """'2027-W09' (ISO year and week: the week of 1 January may belong to the year before)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def wall_clock(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at `at` on the clock of `tz`, in UTC.

    A time the clock skips (the spring-forward hour) is read with the offset before the change, so it
    lands that much later (02:30 becomes 03:30); a time it shows twice (autumn) is the first of the two.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def next_send(after: datetime, tz: ZoneInfo, *, weekday: int, at: time,
              skip_week: str | None = None) -> tuple[datetime, str]:
    """The first `weekday` `at` on the `tz` clock strictly after `after`, in UTC, and its ISO week;
    never in `skip_week` (the week whose digest went out already)."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    day = after.astimezone(tz).date()
    day += timedelta(days=(weekday - day.weekday()) % 7)
    while True:
        moment = wall_clock(day, at, tz)
        if moment > after and iso_week(day) != skip_week:
            return moment, iso_week(day)
        day += timedelta(days=7)

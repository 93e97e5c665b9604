"""Natural-language dates and date ranges ("next Friday", "Dec 3 to 7") to ISO dates."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import dateparser

Prefer = Literal["future", "past", "nearest"]

WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}
NUMBER_WORDS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14,
}
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?"
_DATE = (
    r"(?<!\w)(?:\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|(?:(?:this|next|coming|the coming|last|past)\s+)?{_WEEKDAY}"
    r"|(?:the\s+)?day after tomorrow|today|tomorrow|yesterday|tonight"
    r"|(?:the\s+)?\d{1,2}(?:st|nd|rd|th)"
    r"|in\s+(?:\d+|a|one|two|three|four)\s+(?:days?|weeks?))(?!\w)"
)
_SEP = r"\s*(?:-|–|—|\bto\b|\buntil\b|\btill\b|\btil\b|\bthrough\b|\bthru\b|\band\b|\bup to\b)\s*"
_SPAN = re.compile(
    rf"(?:(?:from|between)\s+)?{_DATE}"
    rf"(?:{_SEP}(?:{_DATE}|\d{{1,2}}\b|(?:the\s+)?(?:day after|next day|following day)))?"
    rf"(?:\s+for\s+(?:\d+|[a-z]+)\s+(?:working\s+|business\s+)?(?:days?|weeks?))?"
    rf"|(?:the\s+)?week\s+(?:of|starting|beginning)\s+{_DATE}"
    r"|(?:the\s+)?(?:rest\s+of\s+)?(?:this|next|the)\s+week(?:end)?|the week after|the weekend",
    re.IGNORECASE,
)
_RANGE_SPLIT = re.compile(
    r"^\s*(?:from\s+|between\s+)?(?P<a>.+?)\s*(?:-|–|—|\bto\b|\buntil\b|\btill\b|\btil\b|"
    r"\bthrough\b|\bthru\b|\band\b|\bup to\b)\s*(?P<b>.+?)\s*$",
    re.IGNORECASE,
)
_FOR_DURATION = re.compile(
    r"^(?:from\s+)?(?P<a>.+?)\s+for\s+(?P<n>\d+|[a-z]+)\s+(?P<unit>days?|weeks?|working days?|business days?)\s*$",
    re.IGNORECASE,
)
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_WEEK_OF = re.compile(r"^(?:the )?week (?:of|starting|beginning) (.+)$")
_DAY_AFTER = re.compile(r"^(?:the )?(?:day after(?: that)?|next day|following day)$", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b(?P<m1>{_MONTH})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y1>\d{{4}}))?\b"
                        rf"|\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH})(?:,?\s+(?P<y2>\d{{4}}))?",
                        re.IGNORECASE)
_ORDINAL = re.compile(r"^(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of\s+(?:the\s+)?month)?$", re.IGNORECASE)
_YEAR = re.compile(r"\b\d{4}\b")


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    @property
    def single(self) -> bool:
        return self.start == self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_range(text: str, *, today: date, prefer: Prefer = "nearest", date_order: str = "MDY") -> DateRange | None:
    """A date or a range from `text`; None when it holds no recognisable date.

    `prefer` decides ambiguous references without a year or with a bare weekday:
    "future" for leave, "past" for receipts, "nearest" otherwise.
    """
    span = find_date_text(text)
    if span is None:
        return None
    cleaned = _clean(span)
    isos = _ISO.findall(cleaned)
    if len(isos) >= 2:
        a, b = (_iso(*isos[0]), _iso(*isos[1]))
        return DateRange(a, b) if a and b else None
    special = _special_range(cleaned, today)
    if special:
        return special
    if m := _WEEK_OF.match(cleaned):
        day = parse_date(m.group(1), today=today, prefer=prefer, date_order=date_order)
        if day is None:
            return None
        monday = day - timedelta(days=day.weekday())
        return DateRange(monday, monday + timedelta(days=4))
    m = _FOR_DURATION.match(cleaned)
    if m:
        start = parse_date(m.group("a"), today=today, prefer=prefer, date_order=date_order)
        n = _number(m.group("n"))
        if start and n:
            if m.group("unit").lower().startswith("week"):
                return DateRange(start, start + timedelta(days=7 * n - 1))
            if "working" in m.group("unit").lower() or "business" in m.group("unit").lower():
                return DateRange(start, _add_working_days(start, n - 1))
            return DateRange(start, start + timedelta(days=n - 1))
    if not isos:
        m = _RANGE_SPLIT.match(cleaned)
        if m:
            first = parse_date(m.group("a"), today=today, prefer=prefer, date_order=date_order)
            if first:
                if _DAY_AFTER.match(m.group("b")):
                    return DateRange(first, first + timedelta(days=1))
                second = parse_date(m.group("b"), today=first, prefer="future", date_order=date_order,
                                    reference=first)
                if second:
                    return DateRange(first, second)
    single = parse_date(cleaned, today=today, prefer=prefer, date_order=date_order)
    return DateRange(single, single) if single else None


def parse_date(
    text: str,
    *,
    today: date,
    prefer: Prefer = "nearest",
    date_order: str = "MDY",
    reference: date | None = None,
) -> date | None:
    """One date. `reference` is the other end of a range ("Dec 3 to 7": 7 is in December)."""
    t = _clean(text)
    if not t:
        return None
    if m := _ISO.search(t):
        return _iso(*m.groups())
    if t in ("today", "now", "this morning", "this afternoon", "tonight"):
        return today
    if t == "tomorrow":
        return today + timedelta(days=1)
    if t in ("day after tomorrow", "the day after tomorrow"):
        return today + timedelta(days=2)
    if t == "yesterday":
        return today - timedelta(days=1)
    wd = _weekday(t, today, prefer)
    if wd:
        return wd
    if m := _ORDINAL.match(t):
        return _day_of_month(int(m.group(1)), today if reference is None else reference, reference, prefer)
    parsed = _dateparser(t, today, date_order)
    if parsed is None:
        return None
    if _YEAR.search(t) or _is_relative(t):
        return parsed
    return _closest_year(parsed, today if reference is None else reference, prefer)


def impossible_date(text: str, *, today: date) -> str | None:
    """Why a date written in `text` cannot exist ("There is no 30 February."), else None."""
    for y, mo, d in _ISO.findall(text):
        year, month, day = int(y), int(mo), int(d)
        if not 1 <= month <= 12:
            return f"{y}-{mo}-{d} is not a date: there is no month {month}."
        length = calendar.monthrange(year, month)[1]
        if not 1 <= day <= length:
            return f"{y}-{mo}-{d} is not a date: {calendar.month_name[month]} {year} has {length} days."
    for m in _MONTH_DAY.finditer(text):
        name, day_text, year_text = m.group("m1", "d1", "y1") if m.group("m1") else m.group("m2", "d2", "y2")
        prefix = name.lower().rstrip(".")
        number = next((i for i in range(1, 13) if calendar.month_name[i].lower().startswith(prefix)), None)
        if number is None:  # "3 decks"
            continue
        n, month_name = int(day_text), calendar.month_name[number]
        if year_text:
            if not 1 <= n <= calendar.monthrange(int(year_text), number)[1]:
                return f"There is no {n} {month_name} in {year_text}."
        elif not 1 <= n <= (29 if number == 2 else calendar.monthrange(2001, number)[1]):
            return f"There is no {n} {month_name}."
        elif number == 2 and n == 29 and not any(calendar.isleap(y) for y in range(today.year - 1, today.year + 2)):
            next_leap = next(y for y in range(today.year, today.year + 8) if calendar.isleap(y))
            return f"There is no 29 February in {today.year} (the next one is in {next_leap})."
    return None


def _clean(text: str) -> str:
    t = text.strip().lower()
    t = re.sub(r"[?!.,;]+(?=\s|$)", " ", t)
    t = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", t)
    return re.sub(r"\s+", " ", t).strip()


def find_date_text(text: str) -> str | None:
    """The date or range expression inside a sentence ("no, make it Dec 3 to 7 please")."""
    spans = [m.group(0) for m in _SPAN.finditer(text)]
    return max(spans, key=len) if spans else None


def _iso(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    return NUMBER_WORDS.get(s.lower())


def _special_range(t: str, today: date) -> DateRange | None:
    monday = today - timedelta(days=today.weekday())
    if t in ("next week", "all next week", "the whole of next week", "whole next week", "the week after"):
        start = monday + timedelta(days=7)
        return DateRange(start, start + timedelta(days=4))
    if t in ("this week", "rest of the week", "the rest of the week", "rest of this week",
             "the rest of this week"):
        return DateRange(today, max(today, monday + timedelta(days=4)))
    if t in ("this weekend", "the weekend"):
        sat = monday + timedelta(days=5)
        return DateRange(max(today, sat), sat + timedelta(days=1))
    return None


def _weekday(t: str, today: date, prefer: Prefer) -> date | None:
    m = re.fullmatch(r"(?:(this|next|coming|the coming|last|past)\s+)?([a-z]+)", t)
    if not m or m.group(2) not in WEEKDAYS:
        return None
    target = WEEKDAYS[m.group(2)]
    qualifier = m.group(1) or ""
    ahead = (target - today.weekday()) % 7
    if qualifier in ("last", "past") or (not qualifier and prefer == "past"):
        back = (today.weekday() - target) % 7
        return today - timedelta(days=back or 7) if qualifier else today - timedelta(days=back)
    if qualifier == "next" or qualifier.endswith("coming"):
        return today + timedelta(days=ahead or 7)
    return today + timedelta(days=ahead)  # "friday" / "this friday": today counts


def _day_of_month(day: int, today: date, reference: date | None, prefer: Prefer) -> date | None:
    base = reference or today
    for months_ahead in range(0, 3):
        year = base.year + (base.month - 1 + months_ahead) // 12
        month = (base.month - 1 + months_ahead) % 12 + 1
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if reference is not None:
            if candidate >= reference:
                return candidate
        elif prefer == "past":
            if candidate <= today:
                return candidate
            prev = _shift_month(candidate, -1)
            return prev
        elif candidate >= today or prefer == "nearest" and (today - candidate).days <= 7:
            return candidate
    return None


def _shift_month(d: date, delta: int) -> date | None:
    year = d.year + (d.month - 1 + delta) // 12
    month = (d.month - 1 + delta) % 12 + 1
    try:
        return date(year, month, d.day)
    except ValueError:
        return None


def _dateparser(t: str, today: date, date_order: str) -> date | None:
    settings = {
        "RELATIVE_BASE": datetime(today.year, today.month, today.day, 12, 0),
        "PREFER_DATES_FROM": "current_period",
        "DATE_ORDER": date_order,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "STRICT_PARSING": False,
        "PARSERS": ["relative-time", "custom-formats", "absolute-time"],
    }
    try:
        parsed = dateparser.parse(t, languages=["en"], settings=settings)
    except (ValueError, OverflowError):
        return None
    if parsed is None:
        return None
    # A bare month ("december") or a year alone is not a day.
    if not re.search(r"\d", t) and not _is_relative(t):
        return None
    return parsed.date()


def _is_relative(t: str) -> bool:
    return bool(re.search(r"\b(in|ago|next|last|after|before|from now)\b", t))


def _closest_year(d: date, today: date, prefer: Prefer) -> date:
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(d.replace(year=year))
        except ValueError:
            continue
    if prefer == "future":
        # A date up to ~3 months back is more likely a (refusable) past date than one 9+ months
        # ahead: "Oct 7" said on Nov 21 gets "that's more than 30 days ago", not next October.
        future = [c for c in candidates if c >= today - timedelta(days=90)]
        return min(future, key=lambda c: abs((c - today).days)) if future else d
    if prefer == "past":
        # Receipts: the nearest year, but never far in the future ("Nov 26" said on Nov 21 is a
        # future date to refuse; "May 6" said in November is last May).
        past = [c for c in candidates if c <= today + timedelta(days=30)]
        return min(past, key=lambda c: abs((c - today).days)) if past else d
    return min(candidates, key=lambda c: abs((c - today).days))


def _add_working_days(start: date, n: int) -> date:
    d = start
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def human(d: date) -> str:
    """'Fri 27 Nov 2026' — unambiguous in every locale."""
    return d.strftime("%a %-d %b %Y")

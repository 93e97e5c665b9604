"""Time off: start date, end date, leave type and an optional note."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ActionServices, entity_values, first_entity, latest_intent, latest_text
from actions.dates import DateRange, human, impossible_date, parse_range
from actions.forms.base import RequestForm, is_correction, is_no
from actions.vocab import LEAVE_TYPES, match_keyword, normalize
from workflows.models import RequestKind, TimeOffDetails, working_days

MAX_DAYS = 60
MAX_PAST_DAYS = 30
MAX_AHEAD_DAYS = 365
_END_WORDS = re.compile(r"\b(end|until|till|til|through|thru|return|back|last day|finish)\b", re.IGNORECASE)
_START_WORDS = re.compile(r"\b(start|from|begin|beginning|first day|leave on)\b", re.IGNORECASE)


def range_problem(start: date, end: date | None, today: date) -> tuple[tuple[str, ...], str] | None:
    """(slots to ask again, reason) when the dates are not acceptable, else None. Without an end
    date (not given yet) only the start is judged."""
    if start < today - timedelta(days=MAX_PAST_DAYS):
        return ("start_date",), (
            f"{human(start)} is more than {MAX_PAST_DAYS} days ago; time off can be recorded at most "
            f"{MAX_PAST_DAYS} days after the fact. Please ask HR for older corrections."
        )
    if start > today + timedelta(days=MAX_AHEAD_DAYS):
        return ("start_date",), f"{human(start)} is more than a year ahead; please pick a nearer date."
    if end is None:
        return None
    if end < start:
        return ("end_date",), f"The end date ({human(end)}) is before the start date ({human(start)})."
    days = (end - start).days + 1
    if days > MAX_DAYS:
        return ("end_date",), (
            f"That's {days} days; a single request can cover at most {MAX_DAYS} days. "
            "For longer leave, file several requests or talk to HR."
        )
    if working_days(start, end) == 0:
        when = human(start) if start == end else f"{human(start)} to {human(end)}"
        return ("start_date", "end_date"), (
            f"{when} has no working days (it falls on a weekend), so there is nothing to take off. "
            "Please pick dates that include a working day."
        )
    return None


class TimeOffForm(RequestForm):
    form = "time_off_form"
    kind = RequestKind.TIME_OFF
    slots = ("start_date", "end_date", "leave_type", "note", "confirmed")
    free_text_slots = ("note",)
    noun = "time-off request"

    # -- extraction ---------------------------------------------------------------------------

    def _date_range(self, tracker: Tracker, today: date) -> DateRange | None:
        """From the tagged date entities or the sentence itself; a full range wins over one day
        (the model sometimes tags only "Dec 2" in "Dec 2 to Dec 6")."""
        spans = entity_values(tracker, "date")
        candidates = [parse_range(latest_text(tracker), today=today, prefer="future")]
        if spans:
            candidates.append(parse_range(" to ".join(spans), today=today, prefer="future"))
        found = [c for c in candidates if c is not None]
        ranges = [c for c in found if not c.single]
        return (ranges or found or [None])[0]  # type: ignore[list-item]  # None: nothing parsed

    async def extract_start_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Sets start_date and/or end_date: ranges, single days and corrections."""
        if not self.may_fill(tracker, "start_date"):
            return {}
        requested = self.requested(tracker)
        intent, _ = latest_intent(tracker)
        text = latest_text(tracker)
        if requested not in ("start_date", "end_date", None) and intent not in ("inform", "deny", "affirm") \
                and not is_correction(text):
            return {}
        today = self.services.today(self.services.user(tracker))
        if reason := impossible_date(text, today=today):
            dispatcher.utter_message(text=reason)
            return {}
        rng = self._date_range(tracker, today)
        if rng is None:
            return {}
        if not rng.single:
            return {"start_date": rng.start.isoformat(), "end_date": rng.end.isoformat()}
        day = rng.start.isoformat()
        if requested == "end_date":
            return {"end_date": day}
        if requested in ("start_date", None):
            return {"start_date": day}
        # A correction of one date after both were given.
        start, end = tracker.get_slot("start_date"), tracker.get_slot("end_date")
        if _END_WORDS.search(text) and not _START_WORDS.search(text):
            return {"end_date": day}
        if start and end and start != end:
            length = date.fromisoformat(end) - date.fromisoformat(start)
            return {"start_date": day, "end_date": (rng.start + length).isoformat()}
        return {"start_date": day, "end_date": day}

    async def extract_leave_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self.may_fill(tracker, "leave_type"):
            return {}
        value = first_entity(tracker, "leave_type")
        leave = normalize(value, LEAVE_TYPES) if value else None
        if leave is None:
            leave = match_keyword(latest_text(tracker), LEAVE_TYPES)
            # "time off" / "day off" only say it's leave, not which kind, unless we asked.
            if leave == "vacation" and self.requested(tracker) != "leave_type" and not re.search(
                r"vacation|vacaton|holiday|pto|annual leave|trip", latest_text(tracker), re.IGNORECASE
            ):
                leave = None
        return {"leave_type": leave} if leave else {}

    async def extract_note(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if self.requested(tracker) != "note":
            return {}
        intent, _ = latest_intent(tracker)
        text = latest_text(tracker)
        if intent == "deny" or is_no(text):
            return {"note": ""}
        if intent == "inform" and is_correction(text):
            return {}
        note = self.free_text(tracker, "note")
        return {"note": note} if note is not None else {}

    # -- validation ---------------------------------------------------------------------------

    def _check(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            dispatcher.utter_message(text="I couldn't read that date. Try \"Dec 3\" or \"next Monday\".")
            return {slot: None}
        today = self.services.today(self.services.user(tracker))
        start = day if slot == "start_date" else _as_date(tracker.get_slot("start_date"))
        end = day if slot == "end_date" else _as_date(tracker.get_slot("end_date"))
        if slot == "start_date" and "end_date" in tracker.slots_to_validate():
            end = None  # checked together with the end date, once
        problem = range_problem(start or day, end, today)
        if problem is None:
            return {slot: day.isoformat()}
        bad_slots, reason = problem
        dispatcher.utter_message(text=reason)
        # Keep this value unless it is at fault; clear the ones at fault so they are asked again.
        return {slot: day.isoformat(), **{bad: None for bad in bad_slots}}

    async def validate_start_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._check("start_date", value, dispatcher, tracker)

    async def validate_end_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._check("end_date", value, dispatcher, tracker)

    async def validate_leave_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        leave = normalize(str(value), LEAVE_TYPES)
        if leave is None:
            dispatcher.utter_message(text="Please pick one of: vacation, sick, personal or parental leave.")
        return {"leave_type": leave}

    async def validate_note(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        note = str(value or "").strip()
        if len(note) > 500:
            dispatcher.utter_message(text="That note is a bit long; please keep it under 500 characters.")
            return {"note": None}
        return {"note": note}

    # -- confirmation and submission ------------------------------------------------------------

    @classmethod
    def details(cls, slots: dict[str, Any], services: ActionServices) -> TimeOffDetails:
        return TimeOffDetails(
            start_date=slots["start_date"],
            end_date=slots["end_date"],
            leave_type=slots["leave_type"],
            note=slots.get("note") or "",
        )

    @classmethod
    def summary(cls, slots: dict[str, Any], services: ActionServices, requester: str) -> list[str]:
        d = cls.details(slots, services)
        when = human(d.start_date) if d.start_date == d.end_date else f"{human(d.start_date)} to {human(d.end_date)}"
        lines = [f"Leave type: {d.leave_type}", f"Dates: {when} ({d.span()})"]
        if d.note:
            lines.append(f"Note: {d.note}")
        manager = services.directory.manager_of(requester) if requester in services.directory else None
        if manager:
            lines.append(f"Approver: {manager.name} (your manager)")
        return lines


def _as_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None

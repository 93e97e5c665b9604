"""Form validation actions, driven with real rasa-sdk trackers (no Rasa server needed)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ActionServices
from actions.forms import AccessForm, ExpenseForm, ITIssueForm, TimeOffForm
from assistant.catalog import SystemCatalog
from assistant.directory import Directory
from assistant.settings import PROJECT_DIR, Settings

DOMAIN = yaml.safe_load((PROJECT_DIR / "app" / "rasa" / "domain.yml").read_text())


class FixedDay(ActionServices):
    def today(self, user):
        return date(2026, 11, 21)


async def _no_requests():
    raise AssertionError("validation must not touch workflows")


@pytest.fixture(scope="module")
def services() -> ActionServices:
    return FixedDay(Settings(), Directory.load(PROJECT_DIR / "data/directory.yml"),
                    SystemCatalog.load(PROJECT_DIR / "data/systems.yml"), requests_factory=_no_requests)


def tracker(text: str, *, intent: str = "inform", confidence: float = 0.95, slots: dict | None = None,
            entities: list[dict] | None = None, form: str = "time_off_form") -> Tracker:
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots or {})
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    return Tracker("alice", all_slots, message, [{"event": "user", "text": text, "parse_data": message}],
                   False, None, {"name": form, "is_interrupted": False, "rejected": False}, "action_listen")


async def run(form, services, t: Tracker) -> tuple[dict, list[str]]:
    dispatcher = CollectingDispatcher()
    events = await form(services).run(dispatcher, t, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return slots, [m.get("text") or "" for m in dispatcher.messages]


async def test_time_off_range_and_leave_type_from_the_first_message(services):
    slots, said = await run(TimeOffForm, services, tracker(
        "I need Dec 3 to 7 off for a vacation", intent="request_time_off",
        entities=[{"entity": "date", "value": "Dec 3 to 7"}]))
    assert slots["start_date"] == "2026-12-03" and slots["end_date"] == "2026-12-07"
    assert slots["leave_type"] == "vacation"
    assert not said


async def test_time_off_end_before_start_is_refused_and_asked_again(services):
    slots, said = await run(TimeOffForm, services, tracker(
        "Dec 7", slots={"requested_slot": "end_date", "start_date": "2026-12-10"}))
    assert slots["end_date"] is None
    assert any("before the start date" in m for m in said)


async def test_time_off_over_60_days_is_refused(services):
    slots, said = await run(TimeOffForm, services, tracker(
        "from Dec 1 to Feb 15", slots={"requested_slot": "start_date"}))
    assert slots["start_date"] == "2026-12-01" and slots["end_date"] is None
    assert any("at most 60 days" in m for m in said)


async def test_time_off_start_too_far_in_the_past(services):
    slots, said = await run(TimeOffForm, services, tracker("Oct 1", slots={"requested_slot": "start_date"}))
    assert slots["start_date"] is None
    assert any("more than 30 days ago" in m for m in said)


async def test_correction_at_confirmation_keeps_the_length_and_reasks(services):
    slots, _ = await run(TimeOffForm, services, tracker(
        "actually make it Thursday",
        slots={"requested_slot": "confirmed", "start_date": "2026-12-01", "end_date": "2026-12-02",
               "leave_type": "vacation", "note": ""}))
    assert slots["start_date"] == "2026-11-26" and slots["end_date"] == "2026-11-27"
    assert "confirmed" not in slots or slots["confirmed"] is None


async def test_note_takes_free_text_but_not_a_stop(services):
    slots, _ = await run(TimeOffForm, services, tracker(
        "back on the 9th, call me if needed", slots={"requested_slot": "note", "start_date": "2026-12-01",
                                                    "end_date": "2026-12-02", "leave_type": "sick"}))
    assert slots["note"] == "back on the 9th, call me if needed"
    assert "end_date" not in slots  # a date inside a note is not a correction
    slots, _ = await run(TimeOffForm, services, tracker(
        "never mind", intent="stop", slots={"requested_slot": "note"}))
    assert "note" not in slots


@pytest.mark.parametrize(("text", "intent", "confidence", "taken"), [
    # The blended NLU's confidences run lower than DIET's alone (actions.common.QUESTION_CONFIDENCE).
    ("how many vacation days do I have left?", "ask_knowledge", 0.8, False),
    ("how many vacation days do I have left?", "ask_knowledge", 0.6, True),  # too unsure: the note
    ("my daughter's school play, can I leave at 3?", "inform", 0.8, True),
    ("stop", "stop", 0.55, False),
])
async def test_a_sure_question_or_stop_is_not_taken_as_the_note(services, text, intent, confidence, taken):
    slots, _ = await run(TimeOffForm, services, tracker(
        text, intent=intent, confidence=confidence,
        slots={"requested_slot": "note", "start_date": "2026-12-01", "end_date": "2026-12-02",
               "leave_type": "vacation"}))
    assert ("note" in slots) is taken, slots


async def test_confirmation_yes_and_no(services):
    base = {"requested_slot": "confirmed", "start_date": "2026-12-01", "end_date": "2026-12-01",
            "leave_type": "sick", "note": ""}
    slots, _ = await run(TimeOffForm, services, tracker("yes", intent="affirm", slots=base))
    assert slots["confirmed"] is True
    slots, _ = await run(TimeOffForm, services, tracker("no", intent="deny", slots=base))
    assert slots["confirmed"] is False


async def test_unknown_system_offers_the_closest_catalog_names(services):
    dispatcher = CollectingDispatcher()
    t = tracker("access to githbu please", intent="request_access",
                entities=[{"entity": "system", "value": "githbu"}], form="access_form")
    events = await AccessForm(services).run(dispatcher, t, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["system"] is None
    buttons = [b["title"] for m in dispatcher.messages for b in m.get("buttons", [])]
    assert "GitHub" in buttons


async def test_access_level_must_exist_on_the_system(services):
    slots, said = await run(AccessForm, services, tracker(
        "admin access to figma", intent="request_access", form="access_form"))
    assert slots["system"] == "figma" and slots["access_level"] is None
    assert any("read, write" in m for m in said)


@pytest.mark.parametrize(("text", "reason"), [("-20 eur", "more than zero"), ("0 euros", "more than zero"),
                                              ("75000 eur", "limit"), ("12.345 eur", None)])
async def test_bad_amounts_are_refused(services, text, reason):
    slots, said = await run(ExpenseForm, services, tracker(text, slots={"requested_slot": "amount"},
                                                             form="expense_form"))
    if reason is None:  # "12.345" reads as twelve thousand: accepted, and shown for confirmation
        assert slots["amount"] == "12345.00"
    else:
        assert slots["amount"] is None and any(reason in m for m in said)


async def test_expense_from_one_sentence(services):
    slots, _ = await run(ExpenseForm, services, tracker(
        "I paid 45.90 euros for a taxi yesterday", intent="submit_expense", form="expense_form"))
    assert slots["amount"] == "45.90" and slots["currency"] == "EUR"
    assert slots["expense_category"] == "travel"
    assert slots["expense_date"] == (date(2026, 11, 21) - timedelta(days=1)).isoformat()


async def test_future_expense_date_is_refused(services):
    slots, said = await run(ExpenseForm, services, tracker(
        "Nov 26", slots={"requested_slot": "expense_date"}, form="expense_form"))
    assert slots["expense_date"] is None and any("in the future" in m for m in said)


async def test_it_issue_summary_from_a_descriptive_opener_only(services):
    slots, _ = await run(ITIssueForm, services, tracker(
        "my laptop won't boot after the update", intent="report_it_issue", form="it_issue_form"))
    assert slots["issue_summary"] == "my laptop won't boot after the update"
    slots, _ = await run(ITIssueForm, services, tracker(
        "I need to report an IT issue", intent="report_it_issue", form="it_issue_form"))
    assert "issue_summary" not in slots


def test_access_request_carries_the_catalog_name_for_messages(services):
    details = AccessForm.details({"system": "github", "access_level": "write",
                                  "justification": "to review pull requests"}, services)
    assert (details.system, details.system_name) == ("github", "GitHub")
    assert details.describe() == "write access to GitHub"


def test_time_off_summary_counts_working_days_when_a_weekend_is_inside():
    from workflows.models import TimeOffDetails

    friday_to_tuesday = TimeOffDetails(leave_type="vacation", start_date=date(2026, 12, 4), end_date=date(2026, 12, 8))
    assert friday_to_tuesday.span() == "5 days, 3 working days"
    monday_to_wednesday = TimeOffDetails(leave_type="vacation", start_date=date(2026, 12, 7),
                                         end_date=date(2026, 12, 9))
    assert monday_to_wednesday.span() == "3 days"
    saturday = TimeOffDetails(leave_type="vacation", start_date=date(2026, 12, 5), end_date=date(2026, 12, 5))
    assert saturday.span() == "1 day, 0 working days"


async def test_time_off_on_a_weekend_only_is_refused_and_both_dates_asked_again(services):
    # Sat 5 and Sun 6 Dec 2026: nothing to take off.
    slots, said = await run(TimeOffForm, services, tracker(
        "Dec 5 to Dec 6", slots={"requested_slot": "start_date"}))
    assert slots["start_date"] is None and slots["end_date"] is None
    assert any("no working days" in m for m in said)
    # A single Saturday given as the end of a Saturday start.
    slots, said = await run(TimeOffForm, services, tracker(
        "Dec 5", slots={"requested_slot": "end_date", "start_date": "2026-12-05"}))
    assert slots["start_date"] is None and slots["end_date"] is None
    assert any("no working days" in m for m in said)


async def test_time_off_starting_on_a_weekend_is_judged_with_its_end(services):
    # A Saturday start alone is fine (the end is not known yet) ...
    slots, said = await run(TimeOffForm, services, tracker("Dec 5", slots={"requested_slot": "start_date"}))
    assert slots["start_date"] == "2026-12-05" and not said
    # ... and so is a range from Saturday to Tuesday.
    slots, said = await run(TimeOffForm, services, tracker(
        "Dec 5 to Dec 8", slots={"requested_slot": "start_date"}))
    assert (slots["start_date"], slots["end_date"]) == ("2026-12-05", "2026-12-08") and not said


async def test_an_impossible_date_is_explained_and_asked_again(services):
    slots, said = await run(TimeOffForm, services, tracker("Feb 30", slots={"requested_slot": "start_date"}))
    assert slots.get("start_date") is None and "There is no 30 February." in said
    slots, said = await run(ExpenseForm, services, tracker(
        "april 31", slots={"requested_slot": "expense_date"}, form="expense_form"))
    assert slots.get("expense_date") is None and "There is no 31 April." in said

"""Actions around the forms: starting afresh, asking, confirming, submitting, stopping."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    ActionServices,
    ServiceAction,
    button,
    channel_of,
    latest_intent,
    latest_user_message_id,
    yes_no_buttons,
)
from actions.dates import human
from actions.forms import FORMS, RequestForm
from actions.forms.access import system_buttons
from actions.forms.base import CONFIRMED, reset_events
from assistant.errors import AssistantError
from workflows.models import NewRequest

log = logging.getLogger(__name__)

PENDING = "pending_submission"  # key of a confirmed submission that failed, for the retry


def last_form(tracker: Tracker) -> type[RequestForm] | None:
    """The form that is active, or that was active most recently."""
    if tracker.active_loop_name in FORMS:
        return FORMS[tracker.active_loop_name]
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") in FORMS:
            return FORMS[event["name"]]
    return None


class ActionAskConfirmed(ServiceAction):
    """The summary and the Yes/No question that end every form."""

    action_name = "action_ask_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        form = last_form(tracker)
        if form is None:
            return []
        slots = {s: tracker.get_slot(s) for s in form.slots}
        try:
            lines = form.summary(slots, self.services, tracker.sender_id)
        except (ValueError, TypeError, KeyError) as exc:
            # The validators should make this impossible; if it happens, start the form over.
            log.error("form.summary_failed form=%s error=%s", form.form, exc)
            dispatcher.utter_message(text="Something in that request doesn't add up; let's start it again.")
            return [*reset_events(form), FollowupAction(form.form)]
        text = f"Here's your {form.noun}:\n" + "\n".join(f"- {line}" for line in lines) + "\nShall I submit it?"
        dispatcher.utter_message(text=text, buttons=yes_no_buttons())
        return []


class ActionAskEndDate(ServiceAction):
    action_name = "action_ask_end_date"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        start = tracker.get_slot("start_date")
        buttons = []
        if start:
            day = date.fromisoformat(start)
            buttons.append(button(f"Just {human(day)}", "inform", date=start))
        dispatcher.utter_message(text="Until which day (inclusive)?", buttons=buttons)
        return []


class ActionAskSystem(ServiceAction):
    action_name = "action_ask_system"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        systems = self.services.catalog.systems
        dispatcher.utter_message(
            text="Which system do you need access to? (" + ", ".join(s.name for s in systems) + ")",
            buttons=system_buttons(systems[:6]),
        )
        return []


class ActionAskAccessLevel(ServiceAction):
    action_name = "action_ask_access_level"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        system = self.services.catalog.get(tracker.get_slot("system") or "")
        levels = system.levels if system else ("read", "write", "admin")
        where = f" on {system.name}" if system else ""
        dispatcher.utter_message(
            text=f"Which access level{where}?",
            buttons=[button(level.capitalize(), "inform", access_level=level) for level in levels],
        )
        return []


async def submit_form(
    form: type[RequestForm], services: ActionServices, dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType]:
    """Start the workflow for a confirmed form; on failure keep everything for a retry."""
    details = form.try_details(tracker, services)
    if details is None:
        dispatcher.utter_message(text="Something in that request doesn't add up; let's go through it again.")
        return [*reset_events(form), FollowupAction(form.form)]
    # The key of the first attempt is kept, so a retry after a lost reply cannot file twice.
    key = tracker.get_slot(PENDING) or latest_user_message_id(tracker) or f"{form.form}:{len(tracker.events)}"
    request = NewRequest(
        requester=tracker.sender_id,
        details=details,
        conversation_id=tracker.sender_id,
        submission_key=key,
        channel=channel_of(tracker),
    )
    try:
        client = await services.requests()
        request_id = await client.submit(request)
    except AssistantError as exc:
        log.warning("request.submit_failed form=%s error=%s", form.form, exc.code)
        dispatcher.utter_message(
            text="I couldn't reach the request service, so this was NOT filed yet. Shall I try again?",
            buttons=yes_no_buttons("Try again", "Drop it"),
        )
        return [SlotSet(PENDING, key)]
    dispatcher.utter_message(
        text=f"Done: your {form.noun} is filed as {request_id} ({details.describe()}). "
        f"You can ask me \"status of {request_id}\" any time.",
        buttons=[button("Check its status", "check_request_status", request_id=request_id)],
    )
    return [*reset_events(form), SlotSet(PENDING, None)]


class ActionFinishRequestForm(ServiceAction):
    """After a form: submit when the user said yes, discard when they said no."""

    action_name = "action_finish_request_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        form = last_form(tracker)
        if form is None:
            return []
        if tracker.get_slot(CONFIRMED) is not True:
            dispatcher.utter_message(text=f"OK, I've discarded that {form.noun}. Nothing was filed.")
            return [*reset_events(form), SlotSet(PENDING, None)]
        return await submit_form(form, self.services, dispatcher, tracker)


class ActionAnswerYesNo(ServiceAction):
    """A yes or no outside a form: retries or drops a submission that failed, else says so."""

    action_name = "action_answer_yes_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        form = last_form(tracker)
        pending = tracker.get_slot(PENDING)
        if form is None or not pending or tracker.get_slot(CONFIRMED) is not True:
            dispatcher.utter_message(response="utter_nothing_to_confirm")
            return []
        intent, _ = latest_intent(tracker)
        if intent == "deny":
            dispatcher.utter_message(text=f"OK, I've dropped that {form.noun}. Nothing was filed.")
            return [*reset_events(form), SlotSet(PENDING, None)]
        return await submit_form(form, self.services, dispatcher, tracker)


class ActionStopForm(ServiceAction):
    """"stop" / "never mind": drop the form in progress; nothing is filed."""

    action_name = "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        form = FORMS.get(tracker.active_loop_name or "")
        if form is None:
            dispatcher.utter_message(text="OK. There was nothing in progress. What can I do for you?")
            return []
        dispatcher.utter_message(text=f"OK, I've stopped that {form.noun}. Nothing was filed.")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *reset_events(form)]


def form_actions(services: ActionServices) -> list[Any]:
    return [
        *(form(services) for form in FORMS.values()),
        ActionAskConfirmed(services),
        ActionAskEndDate(services),
        ActionAskSystem(services),
        ActionAskAccessLevel(services),
        ActionFinishRequestForm(services),
        ActionAnswerYesNo(services),
        ActionStopForm(services),
    ]

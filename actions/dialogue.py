"""Conversation helpers: clarifying low-confidence messages, out-of-scope, documents, approvals."""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import INTENT_LABELS, button, is_payload, latest_intent, latest_text
from actions.dates import find_date_text
from actions.forms.base import reset_events
from actions.knowledge import LAST_QUESTION
from actions.routing import AsksDocumentsFirst

log = logging.getLogger(__name__)

CAPABILITIES = (
    "I can file time off, access, expense and IT requests, tell you where they stand, "
    "show approvals waiting for you, and answer questions from the company's documents."
)


# Entities that say which request a bare answer belongs to ("sick leave from Oct 8" -> time off).
_FORM_BY_ENTITY = (
    ({"leave_type"}, "time_off_form"),
    ({"system", "access_level"}, "access_form"),
    ({"expense_category", "currency"}, "expense_form"),
    ({"urgency"}, "it_issue_form"),
)


FORM_OF_INTENT = {
    "request_time_off": "time_off_form",
    "request_access": "access_form",
    "submit_expense": "expense_form",
    "report_it_issue": "it_issue_form",
}


def form_for_entities(entities: set[str]) -> str | None:
    """The one form the message's entities point to, or None when none or several do."""
    forms = [form for names, form in _FORM_BY_ENTITY if names & entities]
    return forms[0] if len(forms) == 1 else None


def form_to_start(intent: str | None, ranking: list[dict], entities: set[str]) -> str | None:
    """The request to start from an answer given outside a form ("sick leave from Oct 8"), or from
    an uncertain message whose likeliest intent and entities agree ("hi, vacation Dec 7 to 9")."""
    by_entities = form_for_entities(entities)
    if intent == "inform":
        return by_entities
    if intent == "nlu_fallback":
        top = next((r["name"] for r in ranking if r.get("name") != "nlu_fallback"), None)
        if by_entities is not None and FORM_OF_INTENT.get(top or "") == by_entities:
            return by_entities
    return None


DATE_SLOTS = frozenset({"start_date", "end_date", "expense_date"})


def answers_the_question(tracker: Tracker) -> bool:
    """A form asked for a date and the message looks like one, even if the model is unsure of
    it ("Feb 30", "the week of Dec 14"): no "did you mean" in the middle of the form."""
    if not (tracker.active_loop or {}).get("name") or tracker.get_slot("requested_slot") not in DATE_SLOTS:
        return False
    return find_date_text(latest_text(tracker)) is not None


class ActionClarify(AsksDocumentsFirst):
    """Low NLU confidence, or an answer with no question pending: start the request the words
    point to, answer a question the documents answer, or ask which of the likeliest intents the
    user meant."""

    action_name = "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent, _ = latest_intent(tracker)
        entities = {e.get("entity") for e in tracker.latest_message.get("entities") or []}
        ranking = tracker.latest_message.get("intent_ranking") or []
        if answers_the_question(tracker):
            return []  # the active form runs next and takes (or explains what's wrong with) the answer
        # A question is not a request because it names an amount or a date ("is an 80 EUR taxi
        # ride approved automatically?"): the documents come first.
        if await self.answered_from_documents(dispatcher, tracker):
            return [SlotSet(LAST_QUESTION, latest_text(tracker))]
        form = form_to_start(intent, ranking, entities)
        if form is not None:
            # The form extracts its values from this same message when it starts.
            return [*reset_events(), FollowupAction(form)]
        options = [r["name"] for r in ranking if r.get("name") in INTENT_LABELS][:3]
        if not options:
            options = ["help", "ask_knowledge", "list_my_requests"]
        text = latest_text(tracker)
        dispatcher.utter_message(
            text="I'm not sure what you mean. Did you want to:",
            buttons=[button(INTENT_LABELS[name], name) for name in options],
        )
        # Keep the words, so "Search the handbook" can answer the original question.
        return [SlotSet(LAST_QUESTION, text)] if text and not is_payload(text) else []


class ActionOutOfScope(AsksDocumentsFirst):
    """Refuse politely, unless the question is one the company's documents answer after all."""

    action_name = "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if await self.answered_from_documents(dispatcher, tracker, loose=True):
            return [SlotSet(LAST_QUESTION, latest_text(tracker))]
        dispatcher.utter_message(
            text=f"Sorry, that's outside what I can help with. {CAPABILITIES}",
            buttons=[button("What can you do?", "help")],
        )
        return []

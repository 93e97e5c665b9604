"""Routing that prefers asking to guessing: a question is not a request form on a weak signal.

Every request form starts with `action_reset_request_slots` (see data/rasa/rules.yml). When the
person typed a question ("when does the Friday all-hands start?", "is my Miro account removed when
I change teams?") rather than asked for something, that action arbitrates instead of starting the
form: it asks the documents, and gives their answer with a button to start the request; when the
documents have nothing, it asks one short question with both options as buttons. A button click
(a payload) always starts the form. Every arbitration is logged, and its outcome is kept in the
tracker (`routing` in the message's custom data) for `aios eval dialogue`.

The same goes for a question the NLU is unsure of (`action_clarify`) or reads as out of scope
(`action_out_of_scope`): the documents are asked first, and the clarification or the refusal
comes only when they have nothing.
"""

from __future__ import annotations

import logging
import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    INTENT_LABELS,
    ActionServices,
    ServiceAction,
    button,
    is_payload,
    latest_intent,
    latest_text,
)
from actions.form_flow import PENDING
from actions.forms.base import reset_events
from actions.knowledge import LAST_QUESTION, KnowledgeAsker, render
from assistant.errors import AssistantError
from knowledge.models import Answer

log = logging.getLogger(__name__)

# A question word anywhere ("I want 2 weeks off in August, how much notice do I need?").
_WH = re.compile(r"\b(?:how|what|what's|whats|when|where|which|who|whom|whose|why)\b", re.I)
# A yes/no question's opening ("is my Miro account removed...", "do contractors get...").
_YES_NO = re.compile(r"^\W*(?:is|are|was|were|do|does|did|can|could|should|would|will|may|am|have|has|if)\b", re.I)
# Asking for the thing itself, which a question mark does not make a question
# ("can I take Friday off?", "could you give me access to GitHub?", "I need a new laptop").
_ASKS_FOR_IT = re.compile(
    r"\b(?:(?:can|could|may|would)\s+(?:i|you|we)\s+(?:please\s+)?(?:take|get|have|book|request|file|submit|"
    r"open|raise|log|give|grant|add|claim|expense|report|reset|put)|i\s+need|i\s+want|i'?d\s+like|"
    r"i\s+would\s+like|please)\b", re.I)
# Words of a message that is about the person's own requests ("what's the status of my ticket?").
_ABOUT_REQUESTS = re.compile(r"\b(?:request\w*|ask(?:ed)? for|tickets?|req-\w+|status|submit\w*|fil(?:ed|ing)|"
                             r"approv\w*|cancel\w*|withdraw\w*|pending|open ones)\b", re.I)


def looks_like_question(text: str) -> bool:
    """Any question, a request phrased as one included ("can I book premium economy?"): for the
    places that have nothing better to offer than the documents (out of scope, nothing to show)."""
    text = text.strip()
    return bool(_WH.search(text) or _YES_NO.match(text) or text.endswith("?"))


def about_requests(text: str) -> bool:
    return bool(_ABOUT_REQUESTS.search(text))


def reads_as_question(text: str) -> bool:
    """A question about something, as opposed to a request (even one with a question mark)."""
    text = text.strip()
    if _WH.search(text):
        return True
    return (bool(_YES_NO.match(text)) or text.endswith("?")) and not _ASKS_FOR_IT.search(text)


async def documents_answer(asker: KnowledgeAsker, tracker: Tracker, text: str) -> Answer | None:
    """The documents' answer to `text` when they have one (not "don't know"); None otherwise."""
    try:
        answer = await asker.answer(tracker, text)
    except AssistantError as exc:  # busy or down: the caller falls back to asking the person
        log.warning("routing.knowledge_unavailable user=%s code=%s", tracker.sender_id, exc.code)
        return None
    return answer if answer.kind != "dont_know" else None


def answered(dispatcher: CollectingDispatcher, answer: Answer, question: str, *,
             buttons: list[dict[str, str]] | None = None) -> None:
    message = render(answer, question)
    if buttons:
        message["buttons"] = buttons
    message["routing"] = "answered"
    dispatcher.utter_message(json_message=message)


class AsksDocumentsFirst(ServiceAction):
    """An action that lets the documents answer a typed question first, when it would otherwise
    guess (a clarification, a refusal, or "you have no requests")."""

    def __init__(self, services: ActionServices, *, asker: KnowledgeAsker | None = None) -> None:
        super().__init__(services)
        self.asker = asker or KnowledgeAsker(services)

    async def answered_from_documents(self, dispatcher: CollectingDispatcher, tracker: Tracker, *,
                                      loose: bool = False) -> bool:
        """A typed question the documents answer is answered (the caller then does nothing else).

        `loose`: any question counts, even one that reads as asking for something.
        """
        text = latest_text(tracker)
        if is_payload(text) or not (looks_like_question(text) if loose else reads_as_question(text)):
            return False
        answer = await documents_answer(self.asker, tracker, text)
        log.info("routing.arbitration user=%s action=%s outcome=%s", tracker.sender_id, self.action_name,
                 "answered" if answer is not None else "not_in_documents")
        if answer is None:
            return False
        answered(dispatcher, answer, text)
        return True

    async def answered_instead(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """For the actions about the person's own requests: a question that does not mention them
        ("until what date can I take them?") is answered from the documents when they can."""
        return not about_requests(latest_text(tracker)) and await self.answered_from_documents(
            dispatcher, tracker, loose=True)


class ActionStartRequest(AsksDocumentsFirst):
    """Runs before a request form starts: values from an earlier request are never reused, and a
    typed question is arbitrated instead of starting the form."""

    action_name = "action_reset_request_slots"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = latest_text(tracker)
        intent, _ = latest_intent(tracker)
        if is_payload(text) or intent not in INTENT_LABELS or not reads_as_question(text):
            return [*reset_events(), SlotSet(PENDING, None)]
        label = INTENT_LABELS[intent]
        answer = await documents_answer(self.asker, tracker, text)
        if answer is not None:
            answered(dispatcher, answer, text, buttons=[button(label, intent)])
        else:
            dispatcher.utter_message(json_message={
                "text": f"Do you want to {label[0].lower()}{label[1:]}, or shall I look that up in the documents?",
                "buttons": [button(label, intent), button("Search the documents", "ask_knowledge")],
                "routing": "clarified"})
        log.info("routing.arbitration user=%s intent=%s outcome=%s", tracker.sender_id, intent,
                 "answered" if answer is not None else "clarified")
        # The form does not start: the person chooses with a button (its payload starts it).
        return [SlotSet(LAST_QUESTION, text), FollowupAction("action_listen")]

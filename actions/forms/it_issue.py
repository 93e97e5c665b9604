"""IT issues: what is wrong and how urgent it is."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ActionServices, first_entity, is_payload, latest_intent, latest_text
from actions.forms.base import RequestForm
from actions.vocab import URGENCY, match_keyword, normalize
from workflows.models import ITTicketDetails, RequestKind

# Openers that say "I have a problem" without saying which one.
_GENERIC = re.compile(
    r"\b(i (?:have|got|need|want)|there(?:'s| is)|please|can you|could you|i'd like to|help|"
    r"report|open|file|raise|create|log|submit|an?|the|it|issue|problem|ticket|support|with|"
    r"something|some|tech|technical|helpdesk|help desk|for|me|my|to|i|need)\b",
    re.IGNORECASE,
)


def is_descriptive(text: str) -> bool:
    """Whether the opening message already describes the problem ("my laptop won't boot")."""
    rest = _GENERIC.sub(" ", text)
    rest = re.sub(r"[^\w' ]+", " ", rest)
    return len(rest.split()) >= 2


class ITIssueForm(RequestForm):
    form = "it_issue_form"
    kind = RequestKind.IT_TICKET
    slots = ("issue_summary", "urgency", "confirmed")
    free_text_slots = ("issue_summary",)
    noun = "IT ticket"

    async def extract_issue_summary(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if self.activating(tracker):
            text = latest_text(tracker)
            intent, _ = latest_intent(tracker)
            if intent == "report_it_issue" and not is_payload(text) and is_descriptive(text):
                return {"issue_summary": text[:1000]}
            return {}
        summary = self.free_text(tracker, "issue_summary")
        return {"issue_summary": summary} if summary else {}

    async def validate_issue_summary(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if len(text.split()) < 2:
            dispatcher.utter_message(text="Please say a little more about what's wrong (a sentence is enough).")
            return {"issue_summary": None}
        return {"issue_summary": text}

    async def extract_urgency(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self.may_fill(tracker, "urgency"):
            return {}
        value = first_entity(tracker, "urgency")
        urgency = normalize(value, URGENCY) if value else None
        if urgency is None and self.requested(tracker) in ("urgency", None):
            text = latest_text(tracker)
            urgency = match_keyword(text, URGENCY)
            if urgency in ("high", "medium") and self.activating(tracker) and not re.search(
                r"urgent|asap|as soon as|important|high|medium", text, re.IGNORECASE
            ):
                urgency = None  # "today" / "this week" in a description is not an urgency
        return {"urgency": urgency} if urgency else {}

    async def validate_urgency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        urgency = normalize(str(value or ""), URGENCY)
        if urgency is None:
            dispatcher.utter_message(text="Please pick low, medium, high or critical.")
        return {"urgency": urgency}

    @classmethod
    def details(cls, slots: dict[str, Any], services: ActionServices) -> ITTicketDetails:
        return ITTicketDetails(summary=slots["issue_summary"], urgency=slots["urgency"])

    @classmethod
    def summary(cls, slots: dict[str, Any], services: ActionServices, requester: str) -> list[str]:
        d = cls.details(slots, services)
        return [f"Problem: {d.summary}", f"Urgency: {d.urgency}", "No approval needed: it goes straight to IT."]

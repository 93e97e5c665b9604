"""Conversation helpers: clarifying low-confidence messages, out-of-scope, documents, approvals."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import INTENT_LABELS, button, is_payload, latest_text
from actions.form_flow import _ServiceAction

CAPABILITIES = (
    "I can file time off, access, expense and IT requests, tell you where they stand, "
    "show approvals waiting for you, and answer questions from the company's documents."
)


class ActionClarify(_ServiceAction):
    """Low NLU confidence: ask which of the likeliest intents the user meant."""

    action_name = "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        options = [r["name"] for r in ranking if r.get("name") in INTENT_LABELS][:3]
        if not options:
            options = ["help", "ask_knowledge", "list_my_requests"]
        text = latest_text(tracker)
        dispatcher.utter_message(
            text="I'm not sure what you mean. Did you want to:",
            buttons=[button(INTENT_LABELS[name], name) for name in options],
        )
        # Keep the words, so "Search the handbook" can answer the original question.
        return [SlotSet("last_question", text)] if text and not is_payload(text) else []


class ActionOutOfScope(_ServiceAction):
    action_name = "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text=f"Sorry, that's outside what I can help with. {CAPABILITIES}",
            buttons=[button("What can you do?", "help")],
        )
        return []


class ActionAnswerKnowledge(_ServiceAction):
    """Document answers. Until a knowledge service is configured, say so plainly."""

    action_name = "action_answer_knowledge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(
            text="Answers from the company's documents are not configured yet, so I can't look that up. "
            "For now, ask your manager or People Ops, or report an IT issue for technical questions.",
            buttons=[button("Report an IT issue", "report_it_issue")],
        )
        return []

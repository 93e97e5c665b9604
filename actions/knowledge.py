"""`action_answer_knowledge`: questions answered from the company's documents, with their sources."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ActionServices, ServiceAction, is_payload, latest_text
from assistant.errors import AssistantError, Busy
from knowledge.client import KnowledgeClient
from knowledge.models import Answer
from knowledge.presentation import shown

log = logging.getLogger(__name__)

LAST_QUESTION = "last_question"


def render(answer: Answer, question: str) -> dict[str, Any]:
    """The widget's message for `answer` (knowledge.presentation.shown: the gateway streams the same)."""
    return shown(answer, question)


class KnowledgeAsker:
    """Asks the knowledge service as the conversation's user (their groups decide what may be quoted)."""

    def __init__(self, services: ActionServices, *, http: httpx.AsyncClient | None = None) -> None:
        self.services = services
        self._http = http

    def _client(self) -> KnowledgeClient:
        if self._http is None:
            self._http = httpx.AsyncClient()
        settings = self.services.settings
        return KnowledgeClient(settings.knowledge, settings.core.secret_key.get_secret_value(), self._http)

    async def answer(self, tracker: Tracker, question: str, *, previous: str | None = None) -> Answer:
        """The answer; raises Busy, or another AssistantError when the service cannot answer."""
        user = self.services.user(tracker)
        groups = sorted(user.groups) if user else []
        return await self._client().answer(question, groups, previous_question=previous,
                                           asker=user.id if user else tracker.sender_id)


class ActionAnswerKnowledge(ServiceAction):
    """Ask the knowledge service, as the asking user (their groups decide what may be quoted)."""

    action_name = "action_answer_knowledge"

    def __init__(self, services: ActionServices, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(services)
        self.asker = KnowledgeAsker(services, http=http)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = latest_text(tracker)
        remembered = tracker.get_slot(LAST_QUESTION)
        if is_payload(text):
            # "Search the handbook" after a clarification: answer what the user typed before.
            question, previous = remembered, None
        else:
            question, previous = text, remembered
        if not question:
            dispatcher.utter_message(text="What would you like to know? Ask me about policies, benefits, IT or "
                                          "anything else in the company handbook.")
            return []
        if (tracker.latest_message.get("metadata") or {}).get("stream") is True:
            # The web widget streams the answer itself through /api/knowledge/ask (same asker, same
            # groups, checked there): it gets the question to ask instead of a finished answer.
            dispatcher.utter_message(json_message={"stream": {"question": question, "previous_question": previous}})
            return [SlotSet(LAST_QUESTION, question)]
        try:
            answer = await self.asker.answer(tracker, question, previous=previous)
        except Busy as exc:
            dispatcher.utter_message(text=exc.message)
            return [SlotSet(LAST_QUESTION, question)]
        except AssistantError as exc:
            log.warning("knowledge.action.failed code=%s", exc.code)
            dispatcher.utter_message(
                text="I can't reach the company documents right now, so I can't answer that. Please try again "
                     "in a few minutes.",
            )
            return [SlotSet(LAST_QUESTION, question)]
        log.info("knowledge.action.answered user=%s kind=%s citations=%d", tracker.sender_id, answer.kind,
                 len(answer.citations))
        dispatcher.utter_message(json_message=render(answer, question))
        return [SlotSet(LAST_QUESTION, question)]

"""`action_answer_knowledge`: questions answered from the company's documents, with their sources."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ActionServices, ServiceAction, button, is_payload, latest_text
from assistant.errors import AssistantError, Busy
from knowledge.client import KnowledgeClient
from knowledge.models import Answer

log = logging.getLogger(__name__)

LAST_QUESTION = "last_question"
_CITATION = re.compile(r"\[(\d+)\]")


def render(answer: Answer) -> dict[str, Any]:
    """The widget's message: citations renumbered 1..n in the order they appear, as titled sources."""
    order: list[int] = []
    for match in _CITATION.finditer(answer.text):
        n = int(match.group(1))
        if n not in order and any(c.index == n for c in answer.citations):
            order.append(n)
    new = {old: i for i, old in enumerate(order, start=1)}
    text = _CITATION.sub(lambda m: f"[{new[int(m.group(1))]}]" if int(m.group(1)) in new else "", answer.text)
    by_index = {c.index: c for c in answer.citations}
    sources = [{"index": new[old], "document_id": by_index[old].document_id, "title": by_index[old].title,
                "section": by_index[old].section, "score": by_index[old].score} for old in order]
    # `kind` (answer, fallback, dont_know) stays in the tracker for the evaluations; channels ignore it.
    message: dict[str, Any] = {"text": re.sub(r"[ \t]+", " ", text).strip(), "sources": sources, "kind": answer.kind}
    if answer.kind == "dont_know":
        message["buttons"] = [button("Report an IT issue", "report_it_issue")]
    return message


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
        dispatcher.utter_message(json_message=render(answer))
        return [SlotSet(LAST_QUESTION, question)]

"""What every action needs: the injected services and small readers of the Rasa tracker."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker

from assistant.catalog import SystemCatalog
from assistant.directory import Directory, User
from assistant.settings import Settings
from workflows.client import RequestsClient

log = logging.getLogger(__name__)

# Intents that may interrupt a form even while it waits for free text.
STOP_INTENTS = frozenset({"stop", "cancel_request"})
QUESTION_INTENTS = frozenset({
    "ask_knowledge", "help", "bot_challenge", "out_of_scope", "check_request_status",
    "list_my_requests", "pending_approvals",
})

# How sure the NLU must be (the blended confidence of app/rasa/config.yml) before a form waiting for
# free text lets the message stop it or be answered as a question, and below which a short message
# is taken as a system's name. Chosen on the NLU tuning sets so that the blend catches what DIET alone
# caught at 0.6 / 0.9 / 0.6 (the blend's confidences run lower): stop 32 of 32, questions ending in
# "?" 44 of 47, none of the other messages ending in "?".
STOP_CONFIDENCE = 0.5
QUESTION_CONFIDENCE = 0.75
UNSURE_CONFIDENCE = 0.55

INTENT_LABELS = {
    "greet": "Say hello",
    "help": "What can you do?",
    "ask_knowledge": "Search the handbook",
    "request_time_off": "Request time off",
    "request_access": "Request access to a system",
    "submit_expense": "Submit an expense",
    "report_it_issue": "Report an IT issue",
    "check_request_status": "Check a request",
    "list_my_requests": "List my requests",
    "cancel_request": "Cancel a request",
    "pending_approvals": "My pending approvals",
    "approve_request": "Approve a request",
    "reject_request": "Reject a request",
    "summarize_week": "Summarise my week",
}


class ActionServices:
    """Shared by every action instance; built once by the action server."""

    def __init__(
        self,
        settings: Settings,
        directory: Directory,
        catalog: SystemCatalog,
        *,
        requests_factory: Callable[[], Awaitable[RequestsClient]],
    ) -> None:
        self.settings = settings
        self.directory = directory
        self.catalog = catalog
        self._requests_factory = requests_factory
        self._requests: RequestsClient | None = None
        self._lock = asyncio.Lock()

    async def requests(self) -> RequestsClient:
        """The workflow client, connected on first use (the worker may start after us)."""
        if self._requests is None:
            async with self._lock:
                if self._requests is None:
                    self._requests = await self._requests_factory()
        return self._requests

    def user(self, tracker: Tracker) -> User | None:
        """The directory user of this conversation: the gateway sets sender_id to the user id."""
        return self.directory.find(tracker.sender_id)

    def today(self, user: User | None) -> date:
        tz = ZoneInfo(user.timezone if user else "UTC")
        return datetime.now(tz).date()


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def is_payload(text: str) -> bool:
    return text.startswith("/")


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [
        str(e["value"]) for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == entity and e.get("value") not in (None, "")
    ]


def first_entity(tracker: Tracker, entity: str) -> str | None:
    values = entity_values(tracker, entity)
    return values[0] if values else None


def latest_user_message_id(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("message_id")
    return None


def channel_of(tracker: Tracker) -> Literal["web", "slack", "teams"]:
    """The channel the gateway recorded in the message metadata (web, slack or teams)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            channel = (event.get("metadata") or {}).get("channel")
            if channel == "slack" or channel == "teams":
                return channel
            return "web"
    return "web"


def payload(intent: str, **entities: Any) -> str:
    """A button payload Rasa parses without NLU: /intent{"entity": "value"}."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}"


def button(title: str, intent: str, **entities: Any) -> dict[str, str]:
    return {"title": title, "payload": payload(intent, **entities)}


def yes_no_buttons(yes: str = "Yes, submit", no: str = "No, discard") -> list[dict[str, str]]:
    return [button(yes, "affirm"), button(no, "deny")]


class ServiceAction(Action):
    """A custom action that works with the action server's services (directory, workflows, knowledge)."""

    action_name = ""

    def __init__(self, services: ActionServices) -> None:
        self.services = services

    def name(self) -> str:
        return self.action_name

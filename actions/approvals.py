"""Approvals seen from the approver's side: what waits for me, approve or reject by text."""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.form_flow import _ServiceAction

log = logging.getLogger(__name__)


class ActionPendingApprovals(_ServiceAction):
    action_name = "action_pending_approvals"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text="Nothing is waiting for your approval.")
        return []


class ActionDecideRequest(_ServiceAction):
    action_name = "action_decide_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(text="There is no request waiting for your decision.")
        return []

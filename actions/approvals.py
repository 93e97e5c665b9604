"""Approvals seen from the approver's side: what waits for me, approve or reject by text or button."""

from __future__ import annotations

import logging
import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ServiceAction, button, channel_of, first_entity, is_payload, latest_intent, latest_text
from actions.requests import UNAVAILABLE, local_time, requested_id
from assistant.directory import User
from assistant.errors import AssistantError, Conflict, Forbidden, Gone, NotFound
from workflows.client import RequestsClient
from workflows.models import ApprovalStep, Decision, DecisionInput, RequestStatus

log = logging.getLogger(__name__)

_COMMENT = re.compile(r"\b(?:because|as|since|reason:?|comment:?|note:?)\s+(?P<comment>.{3,})$", re.IGNORECASE)


def line(status: RequestStatus, step: ApprovalStep, services, viewer) -> str:
    requester = services.directory.find(status.requester)
    who = requester.name if requester else status.requester
    stage = f", approval {step.stage} of {step.stages}" if step.stages > 1 else ""
    ref = step.approver(viewer.id) if viewer else None
    note = f" ({ref.note})" if ref and ref.note else ""
    return (f"{status.request_id}: {who} asks for {status.describe()} "
            f"(since {local_time(step.requested_at, viewer)}{stage}){note}")


def comment_of(tracker: Tracker) -> str:
    text = latest_text(tracker)
    if is_payload(text):
        return ""
    m = _COMMENT.search(text)
    return m.group("comment").strip().rstrip(".") if m else ""


class ActionPendingApprovals(ServiceAction):
    action_name = "action_pending_approvals"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        user = self.services.user(tracker)
        try:
            client = await self.services.requests()
            pending = await client.pending_for(tracker.sender_id, limit=20)
        except AssistantError as exc:
            log.warning("approvals.list_failed error=%s", exc.code)
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        if not pending:
            dispatcher.utter_message(text="Nothing is waiting for your approval.")
            return []
        n = len(pending)
        text = f"{n} request{'s' if n != 1 else ''} waiting for your decision:\n" + "\n".join(
            f"- {line(status, step, self.services, user)}" for status, step in pending)
        buttons = []
        for status, _step in pending[:5]:
            buttons += [button(f"Approve {status.request_id}", "approve_request", request_id=status.request_id),
                        button(f"Reject {status.request_id}", "reject_request", request_id=status.request_id)]
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionDecideRequest(ServiceAction):
    action_name = "action_decide_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        user = self.services.user(tracker)
        intent, _ = latest_intent(tracker)
        decision = Decision.REJECT if intent == "reject_request" else Decision.APPROVE
        verb = "approve" if decision is Decision.APPROVE else "reject"
        request_id = requested_id(tracker)
        try:
            client = await self.services.requests()
            target = await self._target(dispatcher, tracker, client, request_id, verb=verb, intent=intent, user=user)
            if target is None:
                return []
            status, step = target
            result = await client.decide(DecisionInput(
                approval_id=step.approval_id, approver=tracker.sender_id, decision=decision,
                comment=comment_of(tracker), params_hash=status.params_hash, channel=channel_of(tracker)))
        except AssistantError as exc:
            dispatcher.utter_message(text=_refusal(exc, verb, request_id))
            return []
        done = "approved" if result.decision is Decision.APPROVE else "rejected"
        dispatcher.utter_message(
            text=f"{done.capitalize()} {status.request_id} ({status.requester}'s {status.describe()}). "
                 f"{status.requester} will be told.")
        return []

    async def _target(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: RequestsClient,
                      request_id: str | None, *, verb: str, intent: str | None,
                      user: User | None) -> tuple[RequestStatus, ApprovalStep] | None:
        """The approval to decide: the one named, or the only one waiting; None when the person was
        asked which one, told there is none, or told they already decided."""
        pending = await client.pending_for(tracker.sender_id, limit=20)
        if request_id is None:
            pending = self._narrow(pending, tracker)
            if not pending:
                dispatcher.utter_message(text="There is no request waiting for your decision.")
                return None
            if len(pending) > 1:
                dispatcher.utter_message(
                    text=f"Which request do you want to {verb}?",
                    buttons=[button(f"{verb.capitalize()} {line(s, st, self.services, user)}",
                                    intent or "approve_request", request_id=s.request_id)
                             for s, st in pending[:5]])
                return None
            return pending[0]
        match = next(((s, st) for s, st in pending if s.request_id == request_id), None)
        if match is not None:
            return match
        # Not waiting for this person: the workflow says why (decided, expired, not theirs).
        status = await client.for_approver(request_id, viewer=tracker.sender_id)
        step = status.approvals[-1] if status.approvals else None
        if step is None:
            raise NotFound(request_id)
        mine = next((d for a in status.approvals for d in a.decisions if d.approver == tracker.sender_id), None)
        if mine is not None:
            dispatcher.utter_message(text=f"You already {mine.decision.value}d {request_id} on "
                                          f"{local_time(mine.at, user)}.")
            return None
        return status, step

    def _narrow(self, pending: list[tuple[RequestStatus, ApprovalStep]], tracker: Tracker):
        """'approve alice's request' keeps alice's; without a name, all of them."""
        person = first_entity(tracker, "person")
        if not person:
            return pending
        who = self.services.directory.match_person(person)
        return [p for p in pending if who is None or p[0].requester == who.id]


def _refusal(exc: AssistantError, verb: str, request_id: str | None) -> str:
    """What the person reads when the workflow refuses the decision (or cannot be reached)."""
    if isinstance(exc, NotFound):
        return f"I can't find a request {request_id} waiting for your decision."
    if isinstance(exc, Forbidden):
        return f"You can't {verb} {request_id}: {exc.message}."
    if isinstance(exc, Gone):
        return f"Too late for {request_id}: {exc.message}."
    if isinstance(exc, Conflict):
        return f"{request_id or 'That request'} is not waiting for you: {exc.message}."
    log.warning("approvals.decide_failed error=%s", exc.code)
    return UNAVAILABLE

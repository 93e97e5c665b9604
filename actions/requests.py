"""Where do my requests stand: status, list, cancel, and the weekly summary."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import ServiceAction, button, channel_of, first_entity, latest_text
from actions.knowledge import LAST_QUESTION
from actions.routing import AsksDocumentsFirst
from assistant.directory import User
from assistant.errors import AssistantError, Conflict, NotFound
from workflows.models import RequestStatus, RequestSummary, normalize_request_id
from workflows.summary import KIND_LABELS, STATE_LABELS, describe_summary, local_time

log = logging.getLogger(__name__)

UNAVAILABLE = "I can't reach the request service right now. Please try again in a minute."


def requested_id(tracker: Tracker) -> str | None:
    """A request id from this message only (entity, button payload or plain text)."""
    value = first_entity(tracker, "request_id")
    return normalize_request_id(value) if value else normalize_request_id(latest_text(tracker))


def where_it_is(status: RequestStatus, user: User | None) -> str:
    """'Waiting for carol, the GitHub owner, since 10:14; reminder sent.' or how it ended."""
    step = status.current_approval
    if step is not None:
        who = " or ".join(f"{a.user}, {a.relation}," if a.relation else a.user
                          for a in step.approvers if not step.has_decided(a.user)).rstrip(",")
        since = local_time(step.requested_at, user)
        extra = f" (approval {step.stage} of {step.stages})" if step.stages > 1 else ""
        notes = []
        if step.reminders_sent:
            notes.append("reminder sent" if step.reminders_sent == 1 else f"{step.reminders_sent} reminders sent")
        if step.escalated_at is not None:
            notes.append(f"escalated {local_time(step.escalated_at, user)}")
        tail = "; " + "; ".join(notes) if notes else ""
        return f"Waiting for {who} since {since}{extra}{tail}."
    return status.outcome


def describe_status(status: RequestStatus, user: User | None) -> str:
    lines = [
        f"{status.request_id}: {KIND_LABELS.get(status.kind, status.kind)}, {status.describe()}",
        f"Status: {STATE_LABELS.get(status.state, status.state)} (since {local_time(status.updated_at, user)})",
    ]
    where = where_it_is(status, user)
    if where:
        lines.append(where)
    for entry in status.history[-5:]:
        who = f" by {entry.actor}" if entry.actor else ""
        detail = f": {entry.detail}" if entry.detail else ""
        lines.append(f"- {local_time(entry.at, user)} {entry.event.replace('_', ' ')}{who}{detail}")
    return "\n".join(lines)


class ActionCheckRequestStatus(AsksDocumentsFirst):
    action_name = "action_check_request_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        user = self.services.user(tracker)
        request_id = requested_id(tracker)
        if request_id is None and await self.answered_instead(dispatcher, tracker):
            return [SlotSet(LAST_QUESTION, latest_text(tracker))]
        try:
            client = await self.services.requests()
            if request_id is None:
                mine = await client.list_for(tracker.sender_id, limit=5)
                if not mine:
                    dispatcher.utter_message(text="You have no requests yet.")
                elif len(mine) == 1:
                    status = await client.status(mine[0].request_id, viewer=tracker.sender_id)
                    dispatcher.utter_message(text=describe_status(status, user))
                else:
                    dispatcher.utter_message(
                        text="Which request? Here are your latest:",
                        buttons=[button(describe_summary(r, user), "check_request_status", request_id=r.request_id)
                                 for r in mine],
                    )
                return []
            status = await client.status(request_id, viewer=tracker.sender_id)
            dispatcher.utter_message(text=describe_status(status, user))
        except NotFound:
            dispatcher.utter_message(
                text=f"I can't find a request {request_id} of yours. Say \"my requests\" to list them.")
        except AssistantError as exc:
            log.warning("request.status_failed error=%s", exc.code)
            dispatcher.utter_message(text=UNAVAILABLE)
        return []


class ActionListMyRequests(ServiceAction):
    action_name = "action_list_my_requests"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        user = self.services.user(tracker)
        try:
            client = await self.services.requests()
            mine = await client.list_for(tracker.sender_id, limit=20)
        except AssistantError as exc:
            log.warning("request.list_failed error=%s", exc.code)
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        if not mine:
            dispatcher.utter_message(text="You have no requests yet. Say \"help\" to see what you can ask for.")
            return []
        text = "Your requests:\n" + "\n".join(f"- {describe_summary(r, user)}" for r in mine)
        dispatcher.utter_message(
            text=text,
            buttons=[button(f"Details of {r.request_id}", "check_request_status", request_id=r.request_id)
                     for r in mine[:5]],
        )
        return []


class ActionCancelRequest(AsksDocumentsFirst):
    action_name = "action_cancel_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        user = self.services.user(tracker)
        request_id = requested_id(tracker)
        if request_id is None and await self.answered_instead(dispatcher, tracker):
            return [SlotSet(LAST_QUESTION, latest_text(tracker))]
        try:
            client = await self.services.requests()
            if request_id is None:
                open_ = await client.list_for(tracker.sender_id, open_only=True, limit=10)
                if not open_:
                    dispatcher.utter_message(text="You have no open requests to cancel.")
                else:
                    dispatcher.utter_message(
                        text="Which request should I cancel?",
                        buttons=[button(f"Cancel {describe_summary(r, user)}", "cancel_request",
                                        request_id=r.request_id) for r in open_],
                    )
                return []
            status = await client.cancel(request_id, by=tracker.sender_id, reason="cancelled in chat",
                                         channel=channel_of(tracker))
            dispatcher.utter_message(text=f"Cancelled {request_id} ({status.describe()}).")
        except NotFound:
            dispatcher.utter_message(text=f"I can't find a request {request_id} of yours, so nothing was cancelled.")
        except Conflict as exc:
            dispatcher.utter_message(text=f"{request_id} can't be cancelled: {exc.message}.")
        except AssistantError as exc:
            log.warning("request.cancel_failed error=%s", exc.code)
            dispatcher.utter_message(text=UNAVAILABLE)
        return []


class ActionSummarizeWeek(ServiceAction):
    action_name = "action_summarize_week"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        user = self.services.user(tracker)
        me = tracker.sender_id
        since = datetime.now(UTC) - timedelta(days=7)
        try:
            client = await self.services.requests()
            mine = [r for r in await client.list_for(me, limit=50)
                    if r.created_at is None or r.created_at >= since]
            decided = [(st, d) for st in await client.decided_by(me, limit=50)
                       for step in st.approvals for d in step.decisions if d.approver == me and d.at >= since]
            waiting = await client.pending_for(me, limit=50)
        except AssistantError as exc:
            log.warning("request.summary_failed error=%s", exc.code)
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        dispatcher.utter_message(text="\n".join(week_facts(mine, decided, waiting, user)))
        return []


def week_facts(mine: list[RequestSummary], decided: list, waiting: list, user: User | None) -> list[str]:
    """The facts of the weekly summary, from workflow state only."""
    lines: list[str] = []
    if mine:
        counts: dict[str, int] = {}
        for r in mine:
            label = STATE_LABELS.get(r.state, r.state)
            counts[label] = counts.get(label, 0) + 1
        lines.append(f"In the last 7 days you filed {len(mine)} request{'s' if len(mine) != 1 else ''} (" + ", ".join(
            f"{n} {label}" for label, n in counts.items()) + "):")
        lines += [f"- {describe_summary(r, user)}" for r in mine]
    else:
        lines.append("You filed no requests in the last 7 days.")
    if decided:
        approved = sum(1 for _, d in decided if d.decision == "approve")
        lines.append(f"You decided {len(decided)} approval{'s' if len(decided) != 1 else ''} "
                     f"({approved} approved, {len(decided) - approved} rejected):")
        lines += [f"- {st.request_id}: {d.decision.value}d {st.requester}'s {st.describe()} on "
                  f"{local_time(d.at, user)}" for st, d in decided]
    if waiting:
        lines.append(f"{len(waiting)} request{'s are' if len(waiting) != 1 else ' is'} waiting for your decision "
                     "(say \"pending approvals\").")
    return lines

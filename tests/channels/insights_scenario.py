"""A week of an assistant's life, written through the real stores (turn log, answer log and feedback,
audit log), for the insights tests: the numbers each part should give are worked out in the tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine

from assistant.audit import AuditFiles, AuditLog
from channels.feedback import AnswerLog
from channels.turns import TurnLog

DAYS = 7

# (person, channel, day, time, intent, outcome); day 0 is the period's first day, times in UTC.
TURNS = [
    ("erin", "web", -1, "23:55", "greet", "ok"),  # before the period; her next turn continues it
    ("erin", "web", 0, "00:05", "help", "ok"),
    ("alice", "web", 0, "09:00", "greet", "ok"),
    ("alice", "web", 0, "09:05", "ask_knowledge", "ok"),
    ("alice", "web", 0, "09:50", "ask_knowledge", "ok"),  # 45 min later: a second conversation
    ("bob", "slack", 0, "10:00", "request_time_off", "ok"),
    ("bob", "slack", 0, "10:10", "affirm", "ok"),
    ("alice", "slack", 1, "08:00", None, "error"),  # Rasa never answered
    ("carol", "teams", 1, "23:50", "pending_approvals", "ok"),
    ("carol", "teams", 2, "00:10", "approve_request", "ok"),  # the same conversation, next day
    ("dave", "web", 6, "12:00", "ask_knowledge", "ok"),
    ("frank", "web", 7, "01:00", "greet", "ok"),  # after the period
]

# (person, day, time, kind, question, rating)
ANSWERS = [
    ("alice", 0, "09:05", "answer", "How many vacation days do I get?", "up"),
    ("alice", 0, "09:50", "answer", "Can I carry days over?", None),
    ("dave", 6, "12:00", "answer", "What is the expense limit?", None),
    ("alice", 1, "08:01", "fallback", "Who approves my leave?", "down"),
    ("bob", 0, "10:30", "dont_know", "Where is the Lyon parking?", "down"),
    ("carol", 3, "11:00", "dont_know", "  where is the lyon parking? ", None),
    ("dave", 4, "09:00", "dont_know", "How do I expense a bike?", None),
    ("erin", -2, "09:00", "dont_know", "Is there a gym?", None),  # before the period
]

# (request, event, day, time, actor, data)
AUDIT = [
    ("REQ-R9", "request.submitted", -3, "09:00:00", "erin", {"kind": "time_off"}),  # before the period, still open
    ("REQ-R9", "approval.requested", -3, "09:00:01", None, {"approval_id": "REQ-R9-1", "stage": "manager",
                                                             "approvers": ["frank"]}),
    ("REQ-R1", "request.submitted", 0, "10:00:00", "alice", {"kind": "time_off"}),
    ("REQ-R1", "approval.requested", 0, "10:00:01", None, {"approval_id": "REQ-R1-1", "stage": "manager",
                                                            "approvers": ["bob"]}),
    ("REQ-R1", "approval.decided", 0, "14:00:00", "bob", {"approval_id": "REQ-R1-1", "decision": "approve"}),
    ("REQ-R1", "request.completed", 0, "14:00:05", None, {"outcome": "done"}),
    ("REQ-R2", "request.submitted", 1, "09:00:00", "alice", {"kind": "time_off"}),
    ("REQ-R2", "approval.requested", 1, "09:00:01", None, {"approval_id": "REQ-R2-1", "stage": "manager",
                                                            "approvers": ["bob"]}),
    ("REQ-R2", "approval.reminder", 1, "21:00:00", None, {"approval_id": "REQ-R2-1"}),
    ("REQ-R2", "approval.decided", 2, "09:00:00", "bob", {"approval_id": "REQ-R2-1", "decision": "approve"}),
    ("REQ-R2", "request.completed", 2, "09:00:10", None, {"outcome": "done"}),
    ("REQ-R3", "request.submitted", 2, "10:00:00", "alice", {"kind": "expense"}),
    ("REQ-R3", "approval.auto_approved", 2, "10:00:01", "policy", {"reason": "small expense"}),
    ("REQ-R3", "request.completed", 2, "10:00:30", None, {"outcome": "filed"}),
    ("REQ-R4", "request.submitted", 3, "11:00:00", "dave", {"kind": "expense"}),
    ("REQ-R4", "approval.requested", 3, "11:00:01", None, {"approval_id": "REQ-R4-1", "stage": "manager",
                                                            "approvers": ["frank"]}),
    ("REQ-R4", "approval.decided", 3, "12:00:00", "frank", {"approval_id": "REQ-R4-1", "decision": "approve"}),
    ("REQ-R4", "approval.requested", 3, "12:00:01", None, {"approval_id": "REQ-R4-2", "stage": "finance",
                                                            "approvers": ["frank"]}),
    ("REQ-R4", "approval.decided", 3, "15:00:00", "frank", {"approval_id": "REQ-R4-2", "decision": "reject"}),
    ("REQ-R4", "request.rejected", 3, "15:00:01", None, {"outcome": "Rejected."}),
    ("REQ-R5", "request.submitted", 4, "08:00:00", "alice", {"kind": "access"}),
    ("REQ-R5", "approval.requested", 4, "08:00:01", None, {"approval_id": "REQ-R5-1", "stage": "manager",
                                                            "approvers": ["bob"]}),
    ("REQ-R5", "approval.decided", 4, "09:00:00", "bob", {"approval_id": "REQ-R5-1", "decision": "approve"}),
    ("REQ-R5", "approval.requested", 4, "09:00:01", None, {"approval_id": "REQ-R5-2", "stage": "system owner",
                                                            "approvers": ["carol"]}),
    ("REQ-R6", "request.submitted", 5, "13:00:00", "bob", {"kind": "it_ticket"}),
    ("REQ-R6", "approval.auto_approved", 5, "13:00:01", "policy", {"reason": "no approval needed"}),
    ("REQ-R6", "request.completed", 5, "13:00:20", None, {"outcome": "ticket"}),
    ("REQ-R7", "request.submitted", 5, "16:00:00", "carol", {"kind": "time_off"}),
    ("REQ-R7", "approval.requested", 5, "16:00:01", None, {"approval_id": "REQ-R7-1", "stage": "manager",
                                                            "approvers": ["frank"]}),
    ("REQ-R7", "approval.escalated", 6, "08:00:00", None, {"approval_id": "REQ-R7-1", "to": []}),
    ("REQ-R8", "request.submitted", 6, "10:00:00", "frank", {"kind": "time_off"}),
    ("REQ-R8", "approval.requested", 6, "10:00:01", None, {"approval_id": "REQ-R8-1", "stage": "manager",
                                                            "approvers": ["frank"]}),
    ("REQ-R8", "request.cancelled", 6, "11:00:00", "frank", {"outcome": "You cancelled it."}),
    (None, "document.added", 2, "08:00:00", "erin", {"document": "handbook"}),
]


def at(first_day: date, day: int, clock: str) -> datetime:
    return datetime.combine(first_day + timedelta(days=day), time.fromisoformat(clock), tzinfo=UTC)


def seed(engine: Engine, files: AuditFiles, first_day: date) -> None:
    """The scenario, day 0 being `first_day`, in every store on `engine`."""
    turns, log, audit = TurnLog(engine), AnswerLog(engine), AuditLog(engine, files=files)
    for person, channel, day, clock, intent, outcome in TURNS:
        turns.record(user_id=person, channel=channel, intent=intent, confidence=0.9 if intent else None,
                     outcome=outcome, seconds=0.2, at=at(first_day, day, clock).timestamp())
    for person, day, clock, kind, question, rating in ANSWERS:
        when = at(first_day, day, clock).timestamp()
        answer_id = log.record(user_id=person, channel="web", question=question, text="...", sources=[], kind=kind,
                               model="test", now=when)
        if rating:
            log.rate(answer_id, user_id=person, rating=rating, now=when + 60)
    for request_id, event, day, clock, actor, data in AUDIT:
        audit.append(event, request_id=request_id, actor=actor, data=data, at=at(first_day, day, clock))

"""The numbers of the admin insights page, for one period, computed with SQL from the stores the
gateway already has: the turn log (channels.turns), the knowledge answers and their feedback
(channels.feedback) and the audit log (assistant.audit). Nothing comes from the traces.

Definitions (README, "Insights page"):
- a day starts at midnight in `AIOS_INSIGHTS_TIMEZONE`; the period is whole days, both ends included;
- a conversation is a person's turns on one channel with less than `conversation_gap_minutes`
  between one and the next; it counts on the day it starts;
- requests are those submitted in the period, with what happened to them since (to now);
  time to decision runs from submission to the last human decision of a request that was approved
  (then completed or failed) or rejected; time to completion from submission to completion;
  auto-approved share: auto-approved / (auto-approved + sent to an approver);
- hours saved: completed requests times the minutes set per kind, plus answered questions (answer
  or fallback) times the minutes set per answer: an estimate, as good as those settings;
- approvals waiting: now, whatever the period: asked of an approver, nobody decided yet, the
  request not ended; oldest first.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, case, distinct, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from assistant.audit import audit_log
from assistant.db import reading
from assistant.errors import BadRequest
from assistant.settings.insights import InsightsSettings
from channels.feedback import answer_feedback, answers
from channels.turns import chat_turns
from workflows.models import RequestKind

CHANNELS = ("web", "slack", "teams")
TOP = 10
ENDED = {"request.completed": "completed", "request.rejected": "rejected", "request.expired": "expired",
         "request.cancelled": "cancelled", "request.failed": "failed"}
REQUEST_EVENTS = ["approval.requested", "approval.auto_approved", "approval.decided", *ENDED]
ANSWERED = ("answer", "fallback")
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class Period:
    """Whole days `start`..`end` (both included) in `zone`."""

    start: date
    end: date
    zone: ZoneInfo

    @classmethod
    def of(cls, start: date | None, end: date | None, *, settings: InsightsSettings,
           now: datetime | None = None) -> Period:
        """The period asked for (default: the 30 days up to today); 400 when it is backwards or too long."""
        zone = settings.zone()
        end = end or (now or datetime.now(UTC)).astimezone(zone).date()
        start = start or max(EARLIEST, end - timedelta(days=29))
        if not EARLIEST <= start <= LATEST or not EARLIEST <= end <= LATEST:
            raise BadRequest(f"dates must be between {EARLIEST} and {LATEST}", code="invalid_period")
        if start > end:
            raise BadRequest("the period starts after it ends", code="invalid_period")
        days = (end - start).days + 1
        if days > settings.max_days:
            raise BadRequest(f"the period is {days} days long; at most {settings.max_days}", code="period_too_long")
        return cls(start, end, zone)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def edges(self) -> list[float]:
        """Epoch seconds of each day's midnight, and of the midnight after the last day."""
        return [datetime.combine(d, clock(), tzinfo=self.zone).timestamp()
                for d in [*self.days(), self.end + timedelta(days=1)]]


@dataclass(frozen=True)
class Report:
    period: dict[str, Any]
    conversations: dict[str, Any]
    intents: list[dict[str, Any]]
    answers: dict[str, Any]
    requests: dict[str, Any]
    hours_saved: dict[str, Any]
    waiting: list[dict[str, Any]] = field(default_factory=list)


def iso(epoch: float) -> str:
    """An instant as the audit log writes it (UTC, microseconds): such strings sort as time does."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")


def insights(engine: Engine, period: Period, settings: InsightsSettings, *, now: datetime | None = None) -> Report:
    """Everything the page shows for `period`."""
    now = now or datetime.now(UTC)
    edges = period.edges()
    with reading(engine) as conn:
        conversations = _conversations(conn, period, edges, settings.conversation_gap_minutes * 60)
        intents = _intents(conn, edges)
        answered = _answers(conn, edges)
        requests = _requests(conn, edges)
        waiting = _waiting(conn, now, lookback=timedelta(days=settings.max_days))
    saved = _hours_saved(requests, answered, settings)
    return Report(period={"from": period.start.isoformat(), "to": period.end.isoformat(),
                          "timezone": str(period.zone), "generated_at": now.isoformat(timespec="seconds")},
                  conversations=conversations, intents=intents, answers=answered, requests=requests,
                  hours_saved=saved, waiting=waiting)


def _day_of(column: Any, edges: list[float]) -> ColumnElement[int]:
    """The day number (0 = the period's first day) of an epoch-seconds column, in portable SQL."""
    return case(*[(column < edge, i) for i, edge in enumerate(edges[1:])], else_=-1)


def _conversations(conn: Connection, period: Period, edges: list[float], gap: float) -> dict[str, Any]:
    t = chat_turns
    since, until = edges[0], edges[-1]
    in_period = and_(t.c.created_at >= since, t.c.created_at < until)
    # Turns per day, channel and person (a subquery: PostgreSQL cannot group by a parametrised CASE).
    daily = select(_day_of(t.c.created_at, edges).label("day"), t.c.channel, t.c.user_id).where(in_period).subquery()
    by_day_channel = conn.execute(select(daily.c.day, daily.c.channel, func.count(distinct(daily.c.user_id)),
                                         func.count()).group_by(daily.c.day, daily.c.channel)).all()
    people_by_day = {day: n for day, n in conn.execute(
        select(daily.c.day, func.count(distinct(daily.c.user_id))).group_by(daily.c.day))}
    # A conversation starts at a turn with no earlier turn of that person on that channel within
    # `gap` (turns just before the period are looked at, so one that runs over midnight counts once).
    previous = func.lag(t.c.created_at).over(partition_by=(t.c.user_id, t.c.channel),
                                             order_by=(t.c.created_at, t.c.id))
    turns = (select(t.c.channel, t.c.created_at, previous.label("previous"))
             .where(t.c.created_at >= since - gap, t.c.created_at < until).subquery())
    starts = (select(_day_of(turns.c.created_at, edges).label("day"), turns.c.channel)
              .where(turns.c.created_at >= since,
                     or_(turns.c.previous.is_(None), turns.c.created_at - turns.c.previous >= gap))
              .subquery())
    started = conn.execute(select(starts.c.day, starts.c.channel, func.count())
                           .group_by(starts.c.day, starts.c.channel)).all()
    by_channel = conn.execute(select(t.c.channel, func.count(distinct(t.c.user_id)), func.count())
                              .where(in_period).group_by(t.c.channel)).all()
    people = conn.execute(select(func.count(distinct(t.c.user_id))).where(in_period)).scalar() or 0
    errors = conn.execute(select(func.count()).where(in_period, t.c.outcome != "ok")).scalar() or 0

    channels = list(CHANNELS) + sorted({row[0] for row in by_channel} - set(CHANNELS))
    days: list[dict[str, Any]] = [
        {"day": d.isoformat(), "conversations": dict.fromkeys(channels, 0), "people": dict.fromkeys(channels, 0),
         "turns": dict.fromkeys(channels, 0), "people_all": people_by_day.get(i, 0)}
        for i, d in enumerate(period.days())]
    for day, channel, persons, count in by_day_channel:
        days[day]["people"][channel] = persons
        days[day]["turns"][channel] = count
    for day, channel, count in started:
        days[day]["conversations"][channel] = count
    totals = {c: {"turns": 0, "people": 0, "conversations": sum(d["conversations"][c] for d in days)}
              for c in channels}
    for channel, persons, count in by_channel:
        totals[channel].update(people=persons, turns=count)
    return {"channels": channels, "days": days, "by_channel": totals,
            "total": {"conversations": sum(v["conversations"] for v in totals.values()), "people": people,
                      "turns": sum(v["turns"] for v in totals.values()), "errors": errors}}


def _intents(conn: Connection, edges: list[float]) -> list[dict[str, Any]]:
    t = chat_turns
    count = func.count().label("turns")
    rows = conn.execute(select(t.c.intent, count)
                        .where(t.c.created_at >= edges[0], t.c.created_at < edges[-1], t.c.intent.is_not(None))
                        .group_by(t.c.intent).order_by(count.desc(), t.c.intent).limit(TOP)).all()
    return [{"intent": intent, "turns": n} for intent, n in rows]


def _answers(conn: Connection, edges: list[float]) -> dict[str, Any]:
    a = answers
    in_period = and_(a.c.created_at >= edges[0], a.c.created_at < edges[-1])
    kinds = dict.fromkeys(("answer", "fallback", "dont_know"), 0)
    kinds.update({kind: n for kind, n in conn.execute(
        select(a.c.kind, func.count()).where(in_period).group_by(a.c.kind))})
    ratings = {"up": 0, "down": 0}
    ratings.update({rating: n for rating, n in conn.execute(
        select(answer_feedback.c.rating, func.count())
        .select_from(answer_feedback.join(a, a.c.id == answer_feedback.c.answer_id))
        .where(in_period).group_by(answer_feedback.c.rating))})
    question = func.lower(func.trim(a.c.question))
    asked = func.count().label("asked")
    last = func.max(a.c.created_at).label("last")
    # The same question typed with other capitals or spaces counts once (shown as the group's key:
    # the same text on every engine, where min() or "the latest" would depend on collation or ties).
    rows = conn.execute(select(question, asked, last)
                        .where(in_period, a.c.kind == "dont_know").group_by(question)
                        .order_by(asked.desc(), last.desc()).limit(TOP)).all()
    return {"total": sum(kinds.values()), "kinds": kinds, "ratings": ratings,
            "unanswered": [{"question": q, "asked": n, "last_asked": iso(when)} for q, n, when in rows]}


@dataclass
class _Request:
    kind: str
    submitted: datetime
    auto_approved: bool = False
    asked_approver: bool = False
    last_decision: datetime | None = None
    ended: str | None = None
    ended_at: datetime | None = None


def _requests(conn: Connection, edges: list[float]) -> dict[str, Any]:
    a = audit_log
    submitted_in_period = and_(a.c.event == "request.submitted", a.c.at >= iso(edges[0]), a.c.at < iso(edges[-1]))
    found: dict[str, _Request] = {}
    for request_id, at, data in conn.execute(select(a.c.request_id, a.c.at, a.c.data).where(submitted_in_period)):
        found[request_id] = _Request(kind=str(json.loads(data).get("kind") or "unknown"),
                                     submitted=datetime.fromisoformat(at))
    ids = select(a.c.request_id).where(submitted_in_period)
    later = conn.execute(select(a.c.request_id, a.c.event, a.c.at)
                         .where(a.c.request_id.in_(ids), a.c.event.in_(REQUEST_EVENTS)).order_by(a.c.seq))
    for request_id, event, at in later:
        r = found[request_id]
        when = datetime.fromisoformat(at)
        if event == "approval.auto_approved":
            r.auto_approved = True
        elif event == "approval.requested":
            r.asked_approver = True
        elif event == "approval.decided":
            r.last_decision = max(r.last_decision or when, when)
        elif r.ended is None:
            r.ended, r.ended_at = ENDED[event], when
    kinds = [k.value for k in RequestKind] + sorted({r.kind for r in found.values()} - {k.value for k in RequestKind})
    rows = [_kind_row(kind, [r for r in found.values() if r.kind == kind]) for kind in kinds]
    return {"kinds": rows, "total": _kind_row("all", list(found.values()))}


def _kind_row(kind: str, requests: list[_Request]) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": kind, "submitted": len(requests)}
    for outcome in ENDED.values():
        row[outcome] = sum(r.ended == outcome for r in requests)
    row["open"] = sum(r.ended is None for r in requests)
    row["auto_approved"] = auto = sum(r.auto_approved for r in requests)
    row["sent_to_approver"] = asked = sum(r.asked_approver for r in requests)
    row["share_auto_approved"] = auto / (auto + asked) if auto + asked else None
    decided = [(r.last_decision - r.submitted).total_seconds() for r in requests
               if r.last_decision is not None and r.ended in ("completed", "failed", "rejected")]
    done = [(r.ended_at - r.submitted).total_seconds() for r in requests
            if r.ended == "completed" and r.ended_at is not None]
    row["median_decision_seconds"] = statistics.median(decided) if decided else None
    row["median_completion_seconds"] = statistics.median(done) if done else None
    return row


def _waiting(conn: Connection, now: datetime, *, lookback: timedelta) -> list[dict[str, Any]]:
    a, other = audit_log, audit_log.alias("other")
    ended = exists(select(other.c.seq).where(other.c.request_id == a.c.request_id, other.c.event.in_(ENDED)))
    asked = conn.execute(select(a.c.request_id, a.c.at, a.c.data)
                         .where(a.c.event == "approval.requested", a.c.at >= iso((now - lookback).timestamp()),
                                ~ended).order_by(a.c.at)).all()
    if not asked:
        return []
    ids = sorted({row[0] for row in asked})
    decided: set[str] = set()
    escalated: set[str] = set()
    requests: dict[str, tuple[str, str]] = {}
    for request_id, event, actor, data in conn.execute(
            select(a.c.request_id, a.c.event, a.c.actor, a.c.data)
            .where(a.c.request_id.in_(ids),
                   a.c.event.in_(["approval.decided", "approval.escalated", "request.submitted"]))):
        details = json.loads(data)
        if event == "request.submitted":
            requests[request_id] = (str(details.get("kind") or "unknown"), actor or "")
        elif event == "approval.decided":
            decided.add(details.get("approval_id"))
        else:
            escalated.add(details.get("approval_id"))
    waiting: list[dict[str, Any]] = []
    for request_id, at, data in asked:
        details = json.loads(data)
        approval_id = details.get("approval_id")
        if approval_id in decided:
            continue
        kind, requester = requests.get(request_id, ("unknown", ""))
        waiting.append({"request_id": request_id, "approval_id": approval_id, "kind": kind, "requester": requester,
                        "stage": details.get("stage"), "approvers": details.get("approvers", []),
                        "asked_at": at, "deadline": details.get("deadline"),
                        "waiting_seconds": (now - datetime.fromisoformat(at)).total_seconds(),
                        "escalated": approval_id in escalated})
        if len(waiting) == TOP:
            break
    return waiting


def _hours_saved(requests: dict[str, Any], answered: dict[str, Any], settings: InsightsSettings) -> dict[str, Any]:
    minutes = settings.minutes_saved
    # Minutes are added up before turning into hours, so 20 + 15 + 10 minutes is 0.75 h, not 0.7499...
    by_kind = {row["kind"]: row["completed"] * minutes.get(row["kind"], 0.0) for row in requests["kinds"]}
    answers_n = sum(answered["kinds"][k] for k in ANSWERED)
    from_answers = answers_n * settings.minutes_per_answer
    from_requests = sum(by_kind.values())
    return {"total": (from_requests + from_answers) / 60, "requests": from_requests / 60,
            "by_kind": {kind: m / 60 for kind, m in by_kind.items()}, "answers": from_answers / 60,
            "answered_questions": answers_n,
            "minutes_per_kind": dict(minutes), "minutes_per_answer": settings.minutes_per_answer}


__all__ = ["Period", "Report", "insights"]

"""The insights page's numbers from a seeded week (tests/channels/insights_scenario.py), on SQLite and
PostgreSQL; the API refuses what it cannot answer and anyone but an admin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from app.local_stack import make_settings
from assistant.audit import AuditFiles
from assistant.errors import BadRequest
from assistant.settings.insights import InsightsSettings
from channels.app import create_app
from channels.insights import Period, insights
from channels.services import GatewayServices
from tests.channels.insights_scenario import seed
from tests.dbs import migrated
from tests.fakes.server import asgi_client

FIRST = date(2026, 11, 2)
LAST = FIRST + timedelta(days=6)
NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)  # the day after the period
HOUR = 3600.0


@pytest.fixture
def week(database_url, tmp_path):
    engine = migrated(database_url)
    seed(engine, AuditFiles(tmp_path / "a.key", tmp_path / "s.key", tmp_path / "c.jsonl"), FIRST)
    return engine


def report(engine, settings: InsightsSettings | None = None, *, start: date = FIRST, end: date = LAST):
    settings = settings or InsightsSettings()
    return insights(engine, Period.of(start, end, settings=settings), settings, now=NOW)


def test_conversations_people_and_intents_per_day_and_channel(week):
    r = report(week).conversations
    days = {d["day"]: d for d in r["days"]}
    assert len(days) == 7 and r["channels"] == ["web", "slack", "teams"]
    first, second, third, last = (days[(FIRST + timedelta(days=i)).isoformat()] for i in (0, 1, 2, 6))
    # alice's web turns 45 minutes apart are two conversations; erin's continues one begun the day before.
    assert first["conversations"] == {"web": 2, "slack": 1, "teams": 0}
    assert first["people"] == {"web": 2, "slack": 1, "teams": 0} and first["people_all"] == 3
    assert first["turns"] == {"web": 4, "slack": 2, "teams": 0}
    # carol's conversation runs over midnight: it starts on day 1, she is active on both days.
    assert second["conversations"] == {"web": 0, "slack": 1, "teams": 1} and second["people_all"] == 2
    assert third["conversations"] == {"web": 0, "slack": 0, "teams": 0} and third["people"]["teams"] == 1
    assert last["conversations"]["web"] == 1
    assert r["total"] == {"conversations": 6, "people": 5, "turns": 10, "errors": 1}
    assert r["by_channel"]["web"] == {"conversations": 3, "people": 3, "turns": 5}

    assert report(week).intents == [
        {"intent": "ask_knowledge", "turns": 3}, {"intent": "affirm", "turns": 1},
        {"intent": "approve_request", "turns": 1}, {"intent": "greet", "turns": 1}, {"intent": "help", "turns": 1},
        {"intent": "pending_approvals", "turns": 1}, {"intent": "request_time_off", "turns": 1}]


def test_a_shorter_gap_and_another_time_zone_move_the_counts(week):
    paris = InsightsSettings(timezone="Europe/Paris", conversation_gap_minutes=5)
    r = report(week, paris).conversations
    days = {d["day"]: d for d in r["days"]}
    # 23:50 UTC is 00:50 in Paris: carol's two turns are both on day 2 there; with a 5-minute gap
    # every turn of the scenario starts a conversation (alice's two turns exactly 5 minutes apart too).
    assert days[(FIRST + timedelta(days=1)).isoformat()]["people"]["teams"] == 0
    assert days[(FIRST + timedelta(days=2)).isoformat()]["conversations"]["teams"] == 2
    # erin's 00:05 UTC turn is 01:05 in Paris, her 23:55 one 00:55 on day 0: both in the period now.
    assert r["total"]["turns"] == 11 and r["total"]["conversations"] == 11


def test_answer_outcomes_and_the_questions_left_unanswered(week):
    a = report(week).answers
    assert a["kinds"] == {"answer": 3, "fallback": 1, "dont_know": 3} and a["total"] == 7
    assert a["ratings"] == {"up": 1, "down": 2}
    assert [(u["question"], u["asked"]) for u in a["unanswered"]] == [
        ("where is the lyon parking?", 2), ("how do i expense a bike?", 1)]


def test_requests_by_kind_times_to_decision_and_completion_and_hours_saved(week):
    r = report(week)
    kinds = {row["kind"]: row for row in r.requests["kinds"]}
    time_off, expense = kinds["time_off"], kinds["expense"]
    assert (time_off["submitted"], time_off["completed"], time_off["cancelled"], time_off["open"]) == (4, 2, 1, 1)
    assert time_off["share_auto_approved"] == 0.0
    assert time_off["median_decision_seconds"] == (4 * HOUR + 24 * HOUR) / 2
    assert time_off["median_completion_seconds"] == (4 * HOUR + 5 + 24 * HOUR + 10) / 2
    assert (expense["submitted"], expense["completed"], expense["rejected"]) == (2, 1, 1)
    assert expense["share_auto_approved"] == 0.5 and expense["median_decision_seconds"] == 4 * HOUR
    assert expense["median_completion_seconds"] == 30
    assert kinds["access"]["open"] == 1 and kinds["access"]["median_decision_seconds"] is None
    assert kinds["it_ticket"]["share_auto_approved"] == 1.0
    total = r.requests["total"]
    assert (total["submitted"], total["completed"], total["open"], total["auto_approved"]) == (8, 4, 2, 2)
    assert total["share_auto_approved"] == 2 / 8
    assert total["median_decision_seconds"] == 4 * HOUR
    assert total["median_completion_seconds"] == (30 + 4 * HOUR + 5) / 2

    # Defaults: 10 min a time_off, 15 an expense, 10 an IT ticket; 3 per answered question (4).
    assert r.hours_saved["requests"] == pytest.approx((2 * 10 + 15 + 10) / 60)
    assert r.hours_saved["answers"] == pytest.approx(4 * 3 / 60)
    cheap = report(week, InsightsSettings(minutes_saved={"time_off": 60}, minutes_per_answer=0)).hours_saved
    assert cheap["total"] == pytest.approx(2.0) and cheap["by_kind"]["expense"] == 0


def test_approvals_waiting_longest_whatever_the_period(week):
    waiting = report(week, start=LAST, end=LAST).waiting
    assert [(w["approval_id"], w["kind"], w["requester"], w["escalated"]) for w in waiting] == [
        ("REQ-R9-1", "time_off", "erin", False), ("REQ-R5-2", "access", "alice", False),
        ("REQ-R7-1", "time_off", "carol", True)]
    assert waiting[0]["waiting_seconds"] == (NOW - datetime(2026, 10, 30, 9, 0, 1, tzinfo=UTC)).total_seconds()
    assert waiting[1]["approvers"] == ["carol"] and waiting[1]["stage"] == "system owner"


def test_an_empty_period_is_all_zeros(week):
    r = report(week, start=date(2025, 1, 1), end=date(2025, 1, 3))
    assert r.conversations["total"] == {"conversations": 0, "people": 0, "turns": 0, "errors": 0}
    assert r.requests["total"]["submitted"] == 0 and r.requests["total"]["median_decision_seconds"] is None
    assert r.answers["total"] == 0 and r.intents == [] and r.hours_saved["total"] == 0


def test_a_period_backwards_too_long_or_out_of_range_is_refused():
    settings = InsightsSettings(max_days=31)
    with pytest.raises(BadRequest, match="starts after"):
        Period.of(LAST, FIRST, settings=settings)
    with pytest.raises(BadRequest, match="32 days"):
        Period.of(date(2026, 1, 1), date(2026, 2, 1), settings=settings)
    with pytest.raises(BadRequest, match="between"):
        Period.of(date(1, 1, 1), date(1, 1, 2), settings=settings)
    default = Period.of(None, None, settings=settings, now=NOW)
    assert (default.start, default.end) == (date(2026, 10, 11), date(2026, 11, 9))


async def test_the_api_answers_admins_only_and_refuses_bad_periods(tmp_path):
    settings = make_settings(tmp_path)
    services = GatewayServices.build(settings)
    seed(services.engine, AuditFiles(tmp_path / "a.key", tmp_path / "s.key", tmp_path / "c.jsonl"), FIRST)
    app = create_app(settings, services=services)

    def client(user: str | None) -> httpx.AsyncClient:
        return asgi_client(app, settings, user)

    try:
        async with client("erin") as erin, client("alice") as alice, client(None) as anonymous:
            r = await erin.get("/api/admin/insights", params={"from": FIRST.isoformat(), "to": LAST.isoformat()})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["period"] == body["period"] | {"from": "2026-11-02", "to": "2026-11-08", "timezone": "UTC"}
            assert body["conversations"]["total"]["conversations"] == 6
            assert body["requests"]["total"]["submitted"] == 8
            for params, code in [({"from": "2026-11-08", "to": "2026-11-02"}, "invalid_period"),
                                 ({"from": "2025-01-01", "to": "2026-11-02"}, "period_too_long"),
                                 ({"from": "yesterday"}, "invalid_request"), ({"to": "2026-13-01"}, "invalid_request")]:
                r = await erin.get("/api/admin/insights", params=params)
                assert r.status_code in (400, 422) and r.json()["error"]["code"] == code, (params, r.text)
            assert (await alice.get("/api/admin/insights")).status_code == 403
            assert (await anonymous.get("/api/admin/insights")).status_code == 401
    finally:
        await services.close()

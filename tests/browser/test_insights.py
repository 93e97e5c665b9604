"""The insights page in headless Chromium: an admin opens it on a seeded week and reads the numbers the
stores hold (worked out here from the rows with plain SQL and Python, not by channels.insights), picks
another period and reads that one's, and axe-core finds no serious or critical violation."""

from __future__ import annotations

import asyncio
import json
import math
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import Engine, text

from app.browser import chromium, token_sign_in
from app.local_stack import make_settings, serve_gateway
from assistant.audit import audit_files
from assistant.settings import Settings
from channels.app import create_app
from channels.services import GatewayServices
from tests.browser import test_accessibility as a11y
from tests.channels.insights_scenario import seed

KINDS = {"time_off": "Time off", "access": "Access", "expense": "Expense", "it_ticket": "IT ticket"}
ENDS = {"request.completed": "completed", "request.rejected": "rejected", "request.expired": "expired",
        "request.cancelled": "cancelled", "request.failed": "failed"}


def fixed1(x: float) -> str:
    """JavaScript's x.toFixed(1): the exact value rounded, a tie to the larger (0.25 -> "0.3")."""
    return str(Decimal(x).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# How the page writes numbers (insights.js: duration, share, hours).
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "\u2014"
    if seconds < 120:
        return f"{math.floor(seconds + 0.5)} s"
    if seconds < 7200:
        return f"{math.floor(seconds / 60 + 0.5)} min"
    if seconds < 172800:
        return f"{fixed1(seconds / 3600)} h"
    return f"{fixed1(seconds / 86400)} days"


def share(auto: int, asked: int) -> str:
    return f"{math.floor(100 * auto / (auto + asked) + 0.5)}%" if auto + asked else "\u2014"


def hours(h: float) -> str:
    return f"{fixed1(h)} h"


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def expected(engine: Engine, settings: Settings, first: date, last: date) -> dict:
    """What the page should show for `first`..`last` (UTC days), from the rows themselves."""
    since = datetime.combine(first, clock(), UTC).timestamp()
    until = datetime.combine(last + timedelta(days=1), clock(), UTC).timestamp()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    day_of = lambda t: days[int((t - since) // 86400)]  # noqa: E731
    with engine.connect() as conn:
        turns = conn.execute(text("SELECT user_id, channel, intent, outcome, created_at FROM chat_turns "
                                  "ORDER BY created_at")).all()
        answers = conn.execute(text("SELECT kind, question FROM answers WHERE created_at >= :s AND created_at < :u"),
                               {"s": since, "u": until}).all()
        ratings = conn.execute(text("SELECT f.rating FROM answer_feedback f JOIN answers a ON a.id = f.answer_id "
                                    "WHERE a.created_at >= :s AND a.created_at < :u"), {"s": since, "u": until}).all()
        audit = conn.execute(text("SELECT request_id, event, at, actor, data FROM audit_log ORDER BY seq")).all()

    gap = settings.insights.conversation_gap_minutes * 60
    last_turn: dict[tuple[str, str], float] = {}
    conversations: Counter = Counter()
    people: dict[tuple[date, str], set[str]] = defaultdict(set)
    turns_per_day: Counter = Counter()
    in_period = [t for t in turns if since <= t.created_at < until]
    for t in turns:
        previous = last_turn.get((t.user_id, t.channel))
        last_turn[(t.user_id, t.channel)] = t.created_at
        if not since <= t.created_at < until:
            continue
        if previous is None or t.created_at - previous >= gap:
            conversations[(day_of(t.created_at), t.channel)] += 1
        people[(day_of(t.created_at), t.channel)].add(t.user_id)
        turns_per_day[day_of(t.created_at)] += 1
    channels = ["web", "slack", "teams"]
    per_day = [[d.isoformat(), *(str(conversations[(d, c)]) for c in channels),
                *(str(len(people[(d, c)])) for c in channels),
                str(len(set().union(*(people[(d, c)] for c in channels)))), str(turns_per_day[d])] for d in days]
    intents = sorted(Counter(t.intent for t in in_period if t.intent).items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    kinds = Counter(a.kind for a in answers)
    rating = Counter(r.rating for r in ratings)
    unanswered = Counter(a.question.strip().lower() for a in answers if a.kind == "dont_know")

    requests: dict[str, dict] = {}
    for row in audit:
        at = datetime.fromisoformat(row.at)
        if row.event == "request.submitted" and since <= at.timestamp() < until:
            requests[row.request_id] = {"kind": json.loads(row.data)["kind"], "at": at, "decided": None, "end": None,
                                        "auto": False, "asked": False}
        r = requests.get(row.request_id)
        if r is None:
            continue
        if row.event == "approval.decided":
            r["decided"] = at
        elif row.event == "approval.auto_approved":
            r["auto"] = True
        elif row.event == "approval.requested":
            r["asked"] = True
        elif row.event in ENDS:
            r["end"], r["end_at"] = ENDS[row.event], at
    minutes = settings.insights.minutes_saved

    def kind_row(label: str, rs: list[dict]) -> list[str]:
        ended = Counter(r["end"] for r in rs)
        decision = [(r["decided"] - r["at"]).total_seconds() for r in rs
                    if r["decided"] and r["end"] in ("completed", "rejected", "failed")]
        completion = [(r["end_at"] - r["at"]).total_seconds() for r in rs if r["end"] == "completed"]
        saved = sum(minutes.get(r["kind"], 0) for r in rs if r["end"] == "completed") / 60
        return [label, str(len(rs)), *(str(ended[e]) for e in ENDS.values()), str(ended[None]),
                share(sum(r["auto"] for r in rs), sum(r["asked"] for r in rs)),
                duration(median(decision)), duration(median(completion)), hours(saved)]

    rows = [kind_row(label, [r for r in requests.values() if r["kind"] == kind]) for kind, label in KINDS.items()]
    total = kind_row("All", list(requests.values()))
    answered = kinds["answer"] + kinds["fallback"]
    saved = (sum(minutes.get(r["kind"], 0) for r in requests.values() if r["end"] == "completed")
             + answered * settings.insights.minutes_per_answer) / 60

    ended_ids = {row.request_id for row in audit if row.event in ENDS}
    decided_ids = {json.loads(row.data)["approval_id"] for row in audit if row.event == "approval.decided"}
    submitted = {row.request_id: row for row in audit if row.event == "request.submitted"}
    waiting = [[row.request_id, KINDS[json.loads(submitted[row.request_id].data)["kind"]],
                submitted[row.request_id].actor, json.loads(row.data)["stage"]]
               for row in sorted(audit, key=lambda r: r.at) if row.event == "approval.requested"
               and row.request_id not in ended_ids and json.loads(row.data)["approval_id"] not in decided_ids]
    return {
        "summary": {
            "sum-conversations": str(sum(conversations.values())),
            "sum-people": str(len({t.user_id for t in in_period})),
            "sum-turns": f"{len(in_period)} ({sum(t.outcome != 'ok' for t in in_period)})",
            "sum-answered": str(answered), "sum-unanswered": str(kinds["dont_know"]),
            "sum-requests": total[1], "sum-auto": total[8], "sum-decision": total[9], "sum-completion": total[10],
            "sum-saved": hours(saved)},
        "days": per_day,
        "intents": [[name, str(n)] for name, n in intents],
        "outcomes": [str(n) for n in (kinds["answer"], kinds["fallback"], kinds["dont_know"], rating["up"],
                                      rating["down"])],
        "unanswered": [[q, str(n)] for q, n in sorted(unanswered.items(), key=lambda kv: -kv[1])],
        "requests": [*rows, total],
        "waiting": waiting[:10],
    }


def _cells(browser, selector: str, upto: int | None = None) -> list[list[str]]:
    return [[c.text for c in tr.find_elements(By.CSS_SELECTOR, "th, td")][:upto]
            for tr in browser.find_elements(By.CSS_SELECTOR, selector)]


def _shown(browser) -> dict:
    browser.execute_script("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    return {
        "period": (browser.find_element(By.ID, "from").get_attribute("value"),
                   browser.find_element(By.ID, "to").get_attribute("value")),
        "summary": {e.get_attribute("id"): e.text for e in browser.find_elements(By.CSS_SELECTOR, "#summary dd")},
        "days": _cells(browser, "#days tbody tr"),
        "intents": _cells(browser, "#intents tbody tr"),
        "outcomes": [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#outcomes .value")],
        "unanswered": _cells(browser, "#unanswered tbody tr", 2),
        "requests": _cells(browser, "#requests tbody tr"),
        "waiting": _cells(browser, "#waiting tbody tr", 4),
        "charts": len(browser.find_elements(By.CSS_SELECTOR, "svg.chart[role=img][aria-label]")),
        "bars": len(browser.find_elements(By.CSS_SELECTOR, "#chart-conversations rect")),
    }


def _updated(browser) -> bool:
    return (browser.find_element(By.ID, "status").text == "Updated."
            and browser.find_element(By.ID, "report").is_displayed())


def _read_page(url: str, token: str, first: date, last: date, shots: Path) -> dict:
    out: dict = {}
    with chromium(screenshots=shots) as browser:
        wait = token_sign_in(browser, url, token, path=f"/admin/insights?from={first}&to={last}", ready="period")
        wait.until(_updated)
        out["week"] = _shown(browser)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, height + 140)  # the whole page in one picture
        browser.save_screenshot(str(shots / "insights.png"))
        browser.set_window_size(1280, 900)
        out["violations"] = a11y.axe(browser)
        browser.execute_script("document.getElementById('status').textContent = ''")
        Select(browser.find_element(By.ID, "range")).select_by_value("7")
        wait.until(_updated)
        out["last 7 days"] = _shown(browser)
        browser.set_window_size(360, 740)
        out["overflow_360"] = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        browser.save_screenshot(str(shots / "insights-360.png"))
    return out


async def test_the_insights_page_shows_what_the_stores_hold(tmp_path, shots):
    settings = make_settings(tmp_path)
    settings.temporal.address = "127.0.0.1:1"  # no workflow service: the page needs none
    services = GatewayServices.build(settings)
    first = datetime.now(UTC).date() - timedelta(days=8)
    last = first + timedelta(days=6)
    seed(services.engine, audit_files(settings), first)
    token = services.tokens.mint("erin")
    try:
        async with serve_gateway(create_app(settings, services=services), settings):
            page = await asyncio.to_thread(_read_page, settings.gateway.url, token, first, last, shots)
        week = page["week"]
        assert week["period"] == (first.isoformat(), last.isoformat())
        want = expected(services.engine, settings, first, last)
        for part in ("summary", "days", "intents", "outcomes", "unanswered", "requests", "waiting"):
            assert week[part] == want[part], (part, week[part], want[part])
        # The scenario is not empty, so matching it means something.
        assert week["summary"]["sum-conversations"] == "6" and week["summary"]["sum-requests"] == "8"
        assert week["charts"] == 2 and week["bars"] == 5  # day 0: web, slack; day 1: slack, teams; day 6: web
        assert page["violations"] == [], json.dumps(page["violations"], indent=1)

        other = page["last 7 days"]
        start, end = (date.fromisoformat(d) for d in other["period"])
        assert (end - start).days == 6 and start != first
        want = expected(services.engine, settings, start, end)
        for part in ("summary", "days", "intents", "requests"):
            assert other[part] == want[part], (part, other[part], want[part])
        assert page["overflow_360"] <= 0
    finally:
        await services.close()

"""Routing that prefers asking to guessing, on the real stack: a question never starts a form by itself."""

from __future__ import annotations

import httpx

from app.dialogue_eval import classify

QUESTIONS = [
    "how do I request time off for next week?",
    "when can I take the days I carried over from last year?",
    "is my Miro account removed when I change teams?",
    "which expenses need a receipt when I submit them?",
]


async def tracker_events(stack, user: str) -> list[dict]:
    s = stack.settings
    async with httpx.AsyncClient(timeout=60) as http:
        r = await http.get(f"{s.rasa.url}/conversations/{user}/tracker", params={"token": s.rasa_auth_token()})
        r.raise_for_status()
        return r.json()["events"]


async def test_questions_never_start_a_form_and_a_request_click_does(stack):
    """Whatever the NLU reads them as (request, unclear, out of scope, status), these questions get
    an answer or a choice, never a form; the arbitration itself is tested on the action
    (tests/knowledge/test_action.py), where the intent is given."""
    async with stack.client("alice") as alice:
        for question in QUESTIONS:
            await stack.reset_conversation("alice")
            r = await alice.post("/api/chat", json={"message": question})
            assert r.status_code == 200, r.text
            route, _, _, actions = classify(await tracker_events(stack, "alice"))
            assert route in ("knowledge", "clarify"), (question, route, actions, r.json())
        await stack.reset_conversation("alice")
        r = await alice.post("/api/chat", json={"payload": "/request_time_off"})
        assert r.status_code == 200, r.text
        route, *_ = classify(await tracker_events(stack, "alice"))
        assert route == "form", r.json()

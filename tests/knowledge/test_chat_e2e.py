"""End to end through POST /api/chat: Rasa routes the question to the knowledge action, which asks
the knowledge service; alice gets an answer that cites the right handbook document."""

from __future__ import annotations


async def ask(http, body):
    response = await http.post("/api/chat", json=body)
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def cited(messages) -> list[str]:
    return [s["document_id"] for m in messages for s in m["sources"]]


async def test_alice_asks_a_handbook_question_and_gets_a_cited_answer(stack):
    await stack.reset_conversation("alice")
    async with stack.client("alice") as alice:
        messages = await ask(alice, {"message": "How many vacation days do I get after 3 years?"})
        if not cited(messages):
            # A low-confidence parse gets "did you mean" buttons; "Search the handbook" answers the
            # question typed before.
            payloads = [b["payload"] for m in messages for b in m["buttons"]]
            assert "/ask_knowledge" in payloads, messages
            messages = await ask(alice, {"payload": "/ask_knowledge"})
    assert cited(messages)[0] == "time-off-policy", messages
    answer = next(m for m in messages if m["sources"])
    assert "[1]" in answer["text"]
    assert answer["sources"][0]["title"] == "Time off policy" and answer["sources"][0]["section"]


async def test_a_document_alice_may_not_read_is_never_cited(stack):
    await stack.reset_conversation("alice")
    async with stack.client("alice") as alice:
        messages = await ask(alice, {"message": "What is the merit budget for the salary review?"})
        if not cited(messages) and any(b["payload"] == "/ask_knowledge" for m in messages for b in m["buttons"]):
            messages = await ask(alice, {"payload": "/ask_knowledge"})
    assert "manager-compensation-guide" not in cited(messages)
    assert any("won't guess" in m["text"] for m in messages), messages

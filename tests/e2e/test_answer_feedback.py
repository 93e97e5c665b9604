"""Answers as recorded for feedback, and the document view's access check, through the real stack."""

from __future__ import annotations

import json

import pytest


async def _stream(http, question: str) -> list[dict]:
    async with http.stream("POST", "/api/knowledge/ask", json={"question": question, "stream": True}) as r:
        assert r.status_code == 200
        return [json.loads(line) async for line in r.aiter_lines() if line.strip()]


async def test_a_chat_turn_asks_the_client_to_stream_and_the_stream_ends_with_the_chat_message(stack):
    await stack.reset_conversation("alice")
    async with stack.client("alice") as alice:
        turn = (await alice.post("/api/chat", json={"message": "how many vacation days do I get after 3 years?",
                                                    "stream": True})).json()
        asks = [m["stream"] for m in turn["messages"] if m.get("stream")]
        assert asks and asks[0]["question"].startswith("how many vacation days"), turn
        events = await _stream(alice, asks[0]["question"])
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "answer" and "passages" in kinds, kinds
    final = events[-1]["answer"]
    assert final["answer_id"] and final["message"]["sources"], final
    assert final["message"]["sources"][0]["chunk_id"]
    # Without "stream" the same turn answers in the chat, recorded too.
    async with stack.client("alice") as alice:
        plain = (await alice.post("/api/chat", json={"message": "how many vacation days do I get after 3 years?"}))
        messages = plain.json()["messages"]
    assert not any(m.get("stream") for m in messages) and any(m.get("answer_id") for m in messages), messages


async def test_feedback_is_the_askers_alone_and_admins_list_it(stack):
    async with stack.client("alice") as alice:
        events = await _stream(alice, "what is the expense limit for a hotel night?")
        answer_id = events[-1]["answer"]["answer_id"]
        ok = await alice.post(f"/api/answers/{answer_id}/feedback", json={"rating": "up"})
        assert ok.status_code == 200
        again = await alice.post(f"/api/answers/{answer_id}/feedback", json={"rating": "down", "comment": "old"})
        assert again.status_code == 200  # a change of mind replaces the rating
        bad = await alice.post(f"/api/answers/{answer_id}/feedback", json={"rating": "meh"})
        assert bad.status_code in (400, 422)
        long = await alice.post(f"/api/answers/{answer_id}/feedback", json={"rating": "up", "comment": "x" * 1001})
        assert long.status_code in (400, 422)
    async with stack.client("bob") as bob:
        theirs = await bob.post(f"/api/answers/{answer_id}/feedback", json={"rating": "up"})
        assert theirs.status_code == 404  # not bob's answer
        assert (await bob.get("/api/feedback")).status_code == 403
    async with stack.client("erin") as erin:
        rows = (await erin.get("/api/feedback", params={"rating": "down"})).json()["feedback"]
        assert [r["comment"] for r in rows if r["answer_id"] == answer_id] == ["old"]
        ups = (await erin.get("/api/feedback", params={"rating": "up"})).json()["feedback"]
        assert answer_id not in {r["answer_id"] for r in ups}
        assert (await erin.get("/api/feedback", params={"since": "not a date"})).status_code in (400, 422)


@pytest.mark.parametrize(("reader", "visible"), [("bob", True), ("alice", False)])
async def test_the_document_view_shows_a_document_only_to_those_who_may_read_it(stack, reader, visible):
    async with stack.client("erin") as erin:
        docs = (await erin.get("/api/knowledge/documents")).json()["documents"]
    guide = next(d for d in docs if "compensation" in d["filename"])
    async with stack.client(reader) as http:
        answer = await http.get(f"/api/knowledge/documents/{guide['id']}/passages")
        unknown = await http.get("/api/knowledge/documents/no-such-doc/passages")
    if visible:  # bob is a manager
        assert answer.status_code == 200 and answer.json()["passages"], answer.text
        assert all(p["chunk_id"] and p["text"] for p in answer.json()["passages"])
    else:
        assert answer.status_code == 404 and answer.json() == unknown.json()  # indistinguishable from none
    assert unknown.status_code == 404
    async with stack.client(reader) as http:
        assert (await http.get("/api/knowledge/documents/..%2Fetc/passages")).status_code == 404

"""Two Rasa processes on one conversation: trackers in PostgreSQL, conversation locks in Redis.

Turns sent to both at once are processed one at a time (each user message is followed by its own
reply and `action_listen` before the next one starts), both processes see the same tracker, and the
gateway's client moves a conversation to the other process when its own is down.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import redis

from app.local_stack import make_settings, start_rasa
from channels.rasa_client import RasaClient


async def test_two_rasa_processes_share_trackers_and_serialise_turns(tmp_path, postgres, redis_server):
    base = make_settings(tmp_path, database_url=postgres.create_database("rasa_replicas"))
    base.rasa.lock_store_url = redis_server.url(db=3)
    first, second = base.model_copy(deep=True), base.model_copy(deep=True)
    second.rasa.port = second.rasa.port + 1 if second.rasa.port < 65000 else second.rasa.port - 1
    started = await asyncio.gather(start_rasa(first, name="rasa-1"), start_rasa(second, name="rasa-2"),
                                   return_exceptions=True)
    children = [c for c in started if not isinstance(c, BaseException)]
    probe = redis.Redis.from_url(redis_server.url(db=3))
    try:
        for failure in (c for c in started if isinstance(c, BaseException)):
            raise failure
        commands_before = probe.info("stats")["total_commands_processed"]
        sender = f"alice-{uuid.uuid4().hex[:6]}"
        headers = {"Authorization": f"Bearer {base.rasa_auth_token()}"}
        texts = ["hello", "thanks", "hi there", "thank you"] * 3
        async with httpx.AsyncClient(timeout=120) as http:
            async def turn(i: int, text: str) -> list:
                url = (first if i % 2 else second).rasa.url
                response = await http.post(f"{url}/webhooks/rest/webhook", headers=headers,
                                           json={"sender": sender, "message": text})
                assert response.status_code == 200, response.text
                return response.json()

            replies = await asyncio.gather(*(turn(i, t) for i, t in enumerate(texts)))
            assert all(len(r) == 1 for r in replies), replies

            trackers = []
            for s in (first, second):
                response = await http.get(f"{s.rasa.url}/conversations/{sender}/tracker",
                                          params={"token": base.rasa_auth_token()})
                trackers.append(response.json()["events"])
        assert trackers[0] == trackers[1]  # one tracker, whichever process is asked
        events = [(e["event"], e.get("name") or e.get("text")) for e in trackers[0]
                  if e["event"] in ("user", "bot", "action")]
        assert sum(1 for kind, _ in events if kind == "user") == len(texts)
        # Serialised: between two user messages there is exactly one reply, then action_listen.
        turns, current = [], []
        for kind, name in events:
            if kind == "user" and current:
                turns.append(current)
                current = []
            current.append((kind, name))
        turns.append(current)
        for t in turns[1:]:
            assert [k for k, _ in t][0] == "user" and [k for k, _ in t].count("bot") == 1, t
            assert t[-1] == ("action", "action_listen"), t
        assert probe.info("stats")["total_commands_processed"] > commands_before + len(texts)  # the locks

        # The gateway's client: a conversation whose process is down goes to the other one.
        both = base.model_copy(deep=True)
        both.rasa.urls = f"{first.rasa.url},{second.rasa.url}"
        async with httpx.AsyncClient() as http:
            client = RasaClient(both, http)
            children[0].stop()
            for who in ("bob", "carol", "dave", "erin"):  # some of them hash to the stopped process
                turn = await client.send(f"{who}-{uuid.uuid4().hex[:4]}", "hello")
                assert turn.replies and turn.intent == "greet" and (turn.confidence or 0) > 0.5, turn
    finally:
        for child in children:
            child.stop()
        probe.close()

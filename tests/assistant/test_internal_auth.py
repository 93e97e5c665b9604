"""Every internal hop authenticates its caller: Rasa's channel, the action server, the knowledge service.

All of them listen on loopback in one-machine installs, but the scale-out topology puts them on a
network, where any process that can reach them must not be able to act as any user.
"""

from __future__ import annotations

import httpx

from assistant.settings.knowledge import service_token


async def test_rasa_answers_only_the_gateway(stack):
    s = stack.settings
    body = {"sender": "bob", "message": "what do I need to approve?"}
    async with httpx.AsyncClient(base_url=s.rasa.url, timeout=60) as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": s.rasa_auth_token()}):
            r = await http.post("/webhooks/rest/webhook", json=body, headers=headers)
            assert r.status_code == 401, (headers, r.text)
        r = await http.post("/webhooks/rest/webhook", json={"sender": "probe-rasa", "message": "hi"},
                            headers={"Authorization": f"Bearer {s.rasa_auth_token()}"})
        assert r.status_code == 200 and isinstance(r.json(), list) and r.json(), r.text
        # Rasa's own HTTP API keeps its token too.
        assert (await http.get("/conversations/bob/tracker")).status_code == 401


async def test_the_action_server_answers_only_rasa(stack):
    s = stack.settings
    call = {"next_action": "action_list_my_requests", "sender_id": "erin", "version": "3.6.21",
            "tracker": {"sender_id": "erin", "slots": {}, "latest_message": {}, "events": []}, "domain": {}}
    async with httpx.AsyncClient(base_url=s.actions.url, timeout=60) as http:
        assert (await http.get("/health")).status_code == 200  # liveness carries no data
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {s.rasa_auth_token()}"}):
            assert (await http.post("/webhook", json=call, headers=headers)).status_code == 401, headers
            assert (await http.get("/actions", headers=headers)).status_code == 401, headers
        r = await http.get("/actions", headers={"Authorization": f"Bearer {s.actions_token()}"})
        assert r.status_code == 200 and {"name": "action_list_my_requests"} in r.json(), r.text


async def test_the_knowledge_service_answers_only_the_gateway_and_the_actions(stack):
    s = stack.settings
    async with httpx.AsyncClient(base_url=s.knowledge.url, timeout=60) as http:
        assert (await http.get("/v1/documents")).status_code == 401
        assert (await http.get("/v1/documents", headers={"X-AIOS-Knowledge-Token": "0" * 64})).status_code == 401
        token = service_token(s.core.secret_key.get_secret_value())
        assert (await http.get("/v1/documents", headers={"X-AIOS-Knowledge-Token": token})).status_code == 200

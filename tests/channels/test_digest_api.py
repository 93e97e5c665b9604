"""`GET/PUT /api/me/digest`: each person turns their own weekly digest on or off, on the real gateway app."""

from __future__ import annotations

import httpx

from app.local_stack import make_settings
from channels.app import create_app
from channels.services import GatewayServices
from tests.fakes.server import asgi_client
from workflows.digest.preferences import DigestPreferences


async def test_a_person_turns_their_own_digest_off_and_bad_input_is_refused(tmp_path):
    settings = make_settings(tmp_path)
    services = GatewayServices.build(settings)
    app = create_app(settings, services=services)
    prefs = DigestPreferences(services.engine)  # what the digest workflow reads when it sends

    def client(user: str | None) -> httpx.AsyncClient:
        return asgi_client(app, settings, user)

    try:
        async with client("alice") as alice, client("bob") as bob, client(None) as anonymous:
            r = await alice.get("/api/me/digest")
            assert r.status_code == 200, r.text
            assert r.json() == {"enabled": True, "running": True, "weekday": "monday", "local_time": "09:00",
                                "timezone": "Europe/Paris", "channel": "slack"}

            r = await alice.put("/api/me/digest", json={"enabled": False})
            assert r.status_code == 200, r.text
            assert r.json()["enabled"] is False
            assert (await alice.get("/api/me/digest")).json()["enabled"] is False
            assert prefs.enabled("alice") is False
            assert (await bob.get("/api/me/digest")).json()["enabled"] is True and prefs.enabled("bob")

            # Nobody names whose digest it is: a body that tries is refused, and bob's stays on.
            r = await alice.put("/api/me/digest", json={"enabled": False, "user_id": "bob"})
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request"
            assert prefs.enabled("bob")
            for bad in ({"enabled": "no"}, {"enabled": 0}, {}, {"enabled": None}, [True]):
                r = await bob.put("/api/me/digest", json=bad)
                assert r.status_code == 400, (bad, r.text)
            r = await bob.put("/api/me/digest", content=b"{not json", headers={"content-type": "application/json"})
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
            r = await bob.put("/api/me/digest", content=b'{"enabled": false, "pad": "' + b"x" * 200_000 + b'"}',
                              headers={"content-type": "application/json"})
            assert r.status_code == 413
            assert prefs.enabled("bob")

            assert (await anonymous.get("/api/me/digest")).status_code == 401
            assert (await anonymous.put("/api/me/digest", json={"enabled": False})).status_code == 401

            r = await alice.put("/api/me/digest", json={"enabled": True})
            assert r.status_code == 200 and r.json()["enabled"] is True and prefs.enabled("alice")
    finally:
        await services.close()

"""`GET /api/admin/outbox`: admins see the dead letters (and nobody else does), on the real gateway app."""

from __future__ import annotations

import httpx

from app.local_stack import make_settings
from channels.app import create_app
from channels.services import GatewayServices
from tests.fakes.server import asgi_client
from workflows.notify.models import MessageOut, NotifyBatch


async def test_admins_see_dead_letters_and_others_are_refused(tmp_path):
    settings = make_settings(tmp_path)
    services = GatewayServices.build(settings)
    app = create_app(settings, services=services)
    hub = app.state.notify
    hub.outbox.post(NotifyBatch(key="REQ-X:notify:1", messages=[
        MessageOut(recipient="mallory", text="secret details", request_id="REQ-X")]))
    hub.outbox.post(NotifyBatch(key="REQ-Y:notify:1", messages=[MessageOut(recipient="carol", text="hi")]))
    await hub.dispatcher.dispatch_once()  # mallory is not in the directory: nothing can reach her

    def client(user: str | None) -> httpx.AsyncClient:
        return asgi_client(app, settings, user)

    try:
        async with client("erin") as erin, client("alice") as alice, client(None) as anonymous:
            r = await erin.get("/api/admin/outbox", params={"state": "dead"})
            assert r.status_code == 200, r.text
            [dead] = r.json()["notifications"]
            assert dead["recipient"] == "mallory" and dead["request_id"] == "REQ-X" and dead["state"] == "dead"
            assert "not in the directory" in dead["last_error"]
            assert "secret details" not in r.text  # the content is not the admin's business
            r = await erin.get("/api/admin/outbox", params={"state": "delivered"})
            assert [n["recipient"] for n in r.json()["notifications"]] == ["carol"]
            assert (await erin.get("/api/admin/outbox", params={"state": "lost"})).status_code == 400

            assert (await alice.get("/api/admin/outbox")).status_code == 403
            assert (await anonymous.get("/api/admin/outbox")).status_code == 401
            metrics = (await erin.get("/metrics")).text
            assert 'aios_notify_dead_letters_total{kind="message"}' in metrics
    finally:
        await services.close()

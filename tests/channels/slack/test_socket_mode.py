"""Socket Mode: the gateway opens the WebSocket itself; events arrive and are acknowledged over it."""

from __future__ import annotations

import json

from tests.channels.slack.conftest import ALICE, slack_gateway
from tests.fakes.server import eventually
from tests.fakes.slack_api import APP_TOKEN, dm


async def test_socket_mode_receives_acknowledges_and_answers(tmp_path):
    async with slack_gateway(tmp_path, socket_mode=True, app_token=APP_TOKEN) as rig:
        assert await eventually(lambda: rig.fake.socket is not None, timeout=10)
        assert rig.fake.called("apps.connections.open")[0].token == APP_TOKEN
        payload = json.loads(rig.driver.event_body(rig.driver.dm_event(ALICE, "hi over the socket")))
        await rig.fake.push("envelope-1", payload)
        assert await eventually(lambda: [a for a in rig.fake.socket_acks if a.get("envelope_id") == "envelope-1"],
                                timeout=10)
        assert await eventually(lambda: rig.turn.seen, timeout=10)
        await rig.settle()
        assert rig.turn.seen == [("alice", "hi over the socket", "slack")]
        assert len(rig.fake.posts(dm(ALICE))) == 1

        # A redelivered envelope (same event id) is acknowledged but not answered again.
        await rig.fake.push("envelope-2", payload)
        assert await eventually(lambda: [a for a in rig.fake.socket_acks if a.get("envelope_id") == "envelope-2"],
                                timeout=10)
        await rig.settle()
        assert len(rig.turn.seen) == 1

        # The HTTP endpoint is off: in Socket Mode there is no signing secret to check requests with.
        r = await rig.driver.dm(ALICE, "hi over http")
        assert r.status_code == 404

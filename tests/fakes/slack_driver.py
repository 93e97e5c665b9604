"""Sends what Slack sends: Events API callbacks, interactivity payloads and slash commands, signed.

Requests are signed with slack_sdk's SignatureVerifier, exactly as Slack signs them (v0 HMAC-SHA256
of `v0:<timestamp>:<body>` with the signing secret).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import BOT_USER, TEAM, FakeSlack, dm

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
_ids = itertools.count(1)


def new_event_id() -> str:
    return f"Ev{int(time.time())}{next(_ids):06d}"


class SlackDriver:
    def __init__(self, http: httpx.AsyncClient, fake: FakeSlack, *, secret: str = SIGNING_SECRET) -> None:
        self.http = http
        self.fake = fake
        self.verifier = SignatureVerifier(secret)

    def headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        return {"x-slack-request-timestamp": ts,
                "x-slack-signature": self.verifier.generate_signature(timestamp=ts, body=body)}

    async def send(self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None,
                   sign: bool = True) -> httpx.Response:
        h = {"content-type": content_type, **(self.headers(body) if sign else {}), **(headers or {})}
        return await self.http.post("/slack/events", content=body, headers=h)

    # --- Events API ---------------------------------------------------------------------------

    def event_body(self, event: dict[str, Any], *, event_id: str | None = None) -> bytes:
        return json.dumps({
            "token": "deprecated", "team_id": TEAM, "api_app_id": "A0AIOS", "type": "event_callback",
            "event_id": event_id or new_event_id(), "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }).encode()

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    retry: int | None = None) -> httpx.Response:
        headers = {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"} if retry else None
        return await self.send(self.event_body(event, event_id=event_id), "application/json", headers=headers)

    @staticmethod
    def dm_event(user: str, text: str, **extra: Any) -> dict[str, Any]:
        return {"type": "message", "channel_type": "im", "channel": dm(user), "user": user, "text": text,
                "ts": f"{time.time():.6f}", "event_ts": f"{time.time():.6f}", **extra}

    async def dm(self, user: str, text: str, **kw: Any) -> httpx.Response:
        return await self.event(self.dm_event(user, text), **kw)

    async def mention(self, user: str, text: str, *, channel: str = "C0GENERAL",
                      **kw: Any) -> tuple[httpx.Response, str]:
        ts = f"{time.time():.6f}"
        event = {"type": "app_mention", "channel": channel, "user": user, "text": f"<@{BOT_USER}> {text}",
                 "ts": ts, "event_ts": ts}
        return await self.event(event, **kw), ts

    # --- interactivity ------------------------------------------------------------------------

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.send(body, "application/x-www-form-urlencoded")

    async def click(self, user: str, channel: str, ts: str, *, action_id: str | None = None,
                    title: str | None = None) -> httpx.Response:
        """Click a button (by action id or label) of the message `ts` the fake Slack holds."""
        message = self.fake.message(channel, ts)
        assert message is not None, f"no message {ts} in {channel}"
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("type") != "button":
                    continue
                label = element["text"]["text"]
                wanted = element["action_id"] == action_id if action_id else label.lower().startswith(title.lower())
                if wanted:
                    return await self.interact({
                        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
                        "api_app_id": "A0AIOS", "trigger_id": f"trigger-{next(_ids)}",
                        "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                                      "is_ephemeral": False},
                        "channel": {"id": channel}, "message": {**message, "ts": ts},
                        "response_url": f"{self.fake.url}/respond/{next(_ids)}",
                        "actions": [{"type": "button", "action_id": element["action_id"],
                                     "block_id": block.get("block_id", ""), "value": element.get("value", ""),
                                     "text": element["text"], "action_ts": f"{time.time():.6f}"}],
                    })
        raise AssertionError(f"no button {action_id or title!r} in message {ts}: {message.get('blocks')}")

    async def command(self, user: str, text: str, *, command: str = "/aios",
                      channel: str = "C0GENERAL") -> httpx.Response:
        body = urlencode({"token": "deprecated", "team_id": TEAM, "channel_id": channel, "user_id": user,
                          "command": command, "text": text, "trigger_id": f"trigger-{next(_ids)}",
                          "response_url": f"{self.fake.url}/respond/{next(_ids)}", "api_app_id": "A0AIOS"}).encode()
        return await self.send(body, "application/x-www-form-urlencoded")

    async def submit_view(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> httpx.Response:
        return await self.interact({"type": "view_submission", "team": {"id": TEAM}, "user": {"id": user},
                                    "api_app_id": "A0AIOS", "trigger_id": f"trigger-{next(_ids)}",
                                    "view": {**view, "id": "V0MODAL", "state": {"values": values}}})

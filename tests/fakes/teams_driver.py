"""Sends what the Bot Connector sends to a bot: activities with a signed bearer token."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

import httpx

from tests.fakes.bot_connector import FakeConnector
from tests.fakes.bot_identity import APP_ID, TENANT, BotIdentity

_ids = itertools.count(1)
BOT = {"id": f"28:{APP_ID}", "name": "AIOS Assistant"}


def personal_conversation(aad_id: str) -> str:
    return f"a:personal-{aad_id}"


class TeamsDriver:
    def __init__(self, http: httpx.AsyncClient, identity: BotIdentity, connector: FakeConnector) -> None:
        self.http = http
        self.identity = identity
        self.connector = connector

    def activity(self, aad_id: str, *, type: str = "message", conversation: dict[str, Any] | None = None,
                 **fields: Any) -> dict[str, Any]:
        activity = {
            "type": type, "id": f"{int(time.time() * 1000)}{next(_ids)}", "timestamp": "2026-01-01T10:00:00.000Z",
            "serviceUrl": self.connector.service_url, "channelId": "msteams",
            "from": {"id": f"29:{aad_id}-mri", "name": "Someone", "aadObjectId": aad_id},
            "conversation": conversation or {"id": personal_conversation(aad_id), "conversationType": "personal",
                                             "tenantId": TENANT},
            "recipient": BOT, "channelData": {"tenant": {"id": TENANT}}, "locale": "en-US", **fields,
        }
        return {k: v for k, v in activity.items() if v is not None}

    async def post(self, activity: dict[str, Any], *, token: str | None = "valid",
                   headers: dict[str, str] | None = None) -> httpx.Response:
        h = dict(headers or {})
        if token == "valid":
            token = self.identity.token(service_url=activity.get("serviceUrl") or self.connector.service_url)
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return await self.http.post("/api/messages", json=activity, headers=h)

    async def say(self, aad_id: str, text: str, **kw: Any) -> httpx.Response:
        return await self.post(self.activity(aad_id, text=text, textFormat="plain"), **kw)

    async def mention(self, aad_id: str, text: str, *, channel: str = "19:general@thread.tacv2") -> httpx.Response:
        mention = "<at>AIOS Assistant</at>"
        activity = self.activity(aad_id, text=f"{mention} {text}", conversation={
            "id": f"{channel};messageid={next(_ids)}", "conversationType": "channel", "isGroup": True,
            "tenantId": TENANT}, entities=[{"type": "mention", "text": mention, "mentioned": BOT}])
        return await self.post(activity)

    async def install(self, aad_id: str) -> httpx.Response:
        return await self.post(self.activity(aad_id, type="conversationUpdate", membersAdded=[BOT]))

    async def execute(self, aad_id: str, verb: str, data: dict[str, Any], *, reply_to: str | None = None,
                      conversation: str | None = None) -> httpx.Response:
        activity = self.activity(aad_id, type="invoke", name="adaptiveCard/action", replyToId=reply_to,
                                 value={"action": {"type": "Action.Execute", "verb": verb, "data": data,
                                                   "id": str(uuid.uuid4())}, "trigger": "manual"})
        if conversation:
            activity["conversation"]["id"] = conversation
        return await self.post(activity)

    async def submit(self, aad_id: str, data: dict[str, Any], *, reply_to: str | None = None) -> httpx.Response:
        return await self.post(self.activity(aad_id, value=data, replyToId=reply_to))

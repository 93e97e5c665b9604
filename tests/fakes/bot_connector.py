"""A fake Bot Connector (the Teams side of the Bot Framework REST API) on loopback.

It records every call (method, conversation, activity, bearer claims) and answers like the
Connector: new activity ids, created conversations, members with their UPN and AAD object id.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.bot_identity import LocalTokenProvider

PREFIX = "/amer/"
_PATH = re.compile(r"^v3/conversations(?:/(?P<cid>[^/]+)(?:/(?P<kind>activities|members)(?:/(?P<item>[^/]+))?)?)?$")


@dataclass
class ConnectorCall:
    method: str
    op: str  # create | send | reply | update | member
    conversation: str | None
    activity_id: str | None
    body: dict[str, Any] | None
    token_claims: dict[str, Any] | None
    response_id: str | None = None  # the id the Connector gave a sent activity


@dataclass
class FakeConnector:
    tokens: LocalTokenProvider | None = None  # when set, outbound calls must carry its token
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> TeamsChannelAccount JSON
    calls: list[ConnectorCall] = field(default_factory=list)
    activities: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    refuse_new_chats: bool = False  # Teams refuses a 1:1 chat when the app is not installed for the person
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def service_url(self) -> str:
        return self.url + PREFIX

    def app(self) -> Starlette:
        return Starlette(routes=[Route(PREFIX + "{rest:path}", self._handle, methods=["GET", "POST", "PUT", "DELETE"])])

    # --- what tests look at -------------------------------------------------------------------

    def sent(self, conversation: str | None = None, *,
             op: tuple[str, ...] = ("send", "reply")) -> list[dict[str, Any]]:
        """Activities the bot sent (not typing), optionally into one conversation."""
        return [c.body for c in self.calls if c.op in op and c.body and c.body.get("type") == "message"
                and (conversation is None or c.conversation == conversation)]

    def cards(self, conversation: str | None = None, *,
              op: tuple[str, ...] = ("send", "reply")) -> list[dict[str, Any]]:
        return [a["content"] for body in self.sent(conversation, op=op) for a in body.get("attachments") or []
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]

    def of(self, op: str) -> list[ConnectorCall]:
        return [c for c in self.calls if c.op == op]

    # --- the app ------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        m = _PATH.match(request.path_params["rest"])
        if m is None:
            return JSONResponse({"error": {"code": "NotFound"}}, status_code=404)
        claims = self.tokens.verify(request.headers.get("authorization")) if self.tokens else None
        body = await request.json() if request.method in ("POST", "PUT") else None
        cid = unquote(m.group("cid")) if m.group("cid") else None
        item = unquote(m.group("item")) if m.group("item") else None
        op = {("POST", None): "create", ("POST", "activities"): "reply" if item else "send",
              ("PUT", "activities"): "update", ("GET", "members"): "member"}.get((request.method, m.group("kind")),
                                                                                  "other")
        self.calls.append(ConnectorCall(request.method, op, cid, item, body, claims))
        if self.tokens is not None and claims is None:
            return JSONResponse({"error": {"code": "Unauthorized", "message": "bad token"}}, status_code=401)
        if op == "create":
            if self.refuse_new_chats:
                return JSONResponse({"error": {"code": "Forbidden", "message": "The bot is not part of the "
                                               "conversation roster."}}, status_code=403)
            new = f"a:conv-{next(self._ids)}"
            return JSONResponse({"id": new, "serviceUrl": self.service_url}, status_code=201)
        if op in ("send", "reply"):
            activity_id = f"1:{next(self._ids)}"
            self.activities[(cid, activity_id)] = body
            self.calls[-1].response_id = activity_id
            return JSONResponse({"id": activity_id}, status_code=201)
        if op == "update":
            if (cid, item) not in self.activities:
                return JSONResponse({"error": {"code": "NotFound"}}, status_code=404)
            self.activities[(cid, item)] = body
            return JSONResponse({"id": item})
        if op == "member":
            member = self.members.get(item or "")
            return JSONResponse(member) if member else JSONResponse({"error": {"code": "MemberNotFoundInConversation"}},
                                                                     status_code=404)
        return JSONResponse({"error": {"code": "BadSyntax"}}, status_code=400)

"""A fake Slack Web API on loopback: the methods the assistant calls, answered in Slack's format.

Every call is recorded (method, arguments, token). Messages posted to a user id land in that
user's DM channel (`D` + the rest of the user id), like Slack's App Home messages tab.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

BOT_TOKEN = "xoxb-test-aios-bot-token"
APP_TOKEN = "xapp-test-aios-app-token"
BOT_USER = "U0AIOSBOT"
BOT_ID = "B0AIOS001"
TEAM = "T0AIOS000"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class SlackUser:
    id: str
    email: str | None = None
    name: str = ""
    is_bot: bool = False


@dataclass
class FakeSlack:
    users: dict[str, SlackUser] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_bodies: dict[str, bytes] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posts to response_url
    url: str = ""
    socket: WebSocket | None = None
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))

    # --- what tests look at -------------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """chat.postMessage arguments (optionally to one channel or user), in order."""
        out = []
        for c in self.called("chat.postMessage"):
            if channel is None or dm(c.args.get("channel", "")) == dm(channel):
                out.append(c.args)
        return out

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return self.messages.get((channel, ts))

    def clear(self) -> None:
        self.calls.clear()
        self.responses.clear()

    # --- the app ------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/{method}", self._api, methods=["GET", "POST"]),
            Route("/files-pri/{file_id}/{name}", self._download, methods=["GET"]),
            Route("/respond/{key}", self._respond, methods=["POST"]),
            WebSocketRoute("/socket", self._socket),
        ])

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        args: dict[str, Any] = dict(request.query_params)
        body = await request.body()
        if body:
            if request.headers.get("content-type", "").startswith("application/json"):
                args.update(json.loads(body))
            else:
                args.update(dict(parse_qsl(body.decode())))
        token = (request.headers.get("authorization") or "").removeprefix("Bearer ") or args.pop("token", None)
        for key in ("blocks", "view", "attachments"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        self.calls.append(Call(method, args, token))
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return JSONResponse({"ok": False, "error": "unknown_method"})
        return JSONResponse(handler(args))

    def m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://aios-test.slack.com/", "team": "AIOS test", "user": "aios",
                "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}

    def m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = dm(args.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts, "text": args.get("text", ""),
                   "blocks": args.get("blocks") or [], "thread_ts": args.get("thread_ts")}
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args.get("channel", ""), args.get("ts", ""))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.messages[key].update(text=args.get("text", ""), blocks=args.get("blocks") or [])
        return {"ok": True, "channel": key[0], "ts": key[1], "text": args.get("text", "")}

    def m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": self.messages.pop((args.get("channel", ""), args.get("ts", "")), None) is not None}

    def m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V0HOME", **(args.get("view") or {})}}

    def m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return {"ok": True, "view": {"id": "V0MODAL", **(args.get("view") or {})}}

    def m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": user.id, "name": user.name, "is_bot": user.is_bot, "deleted": False,
                                     "profile": {"email": user.email, "real_name": user.name}}}

    def m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        for user in self.users.values():
            if user.email and user.email.lower() == str(args.get("email", "")).lower():
                return {"ok": True, "user": {"id": user.id, "name": user.name}}
        return {"ok": False, "error": "users_not_found"}

    def m_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        f = self.files.get(args.get("file", ""))
        return {"ok": True, "file": f} if f else {"ok": False, "error": "file_not_found"}

    def m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}

    def add_file(self, file_id: str, name: str, data: bytes, mimetype: str = "text/markdown") -> dict[str, Any]:
        self.files[file_id] = {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "size": len(data),
                               "url_private_download": f"{self.url}/files-pri/{file_id}/{name}"}
        self.file_bodies[file_id] = data
        return self.files[file_id]

    async def _download(self, request: Request) -> Response:
        self.calls.append(Call("files.download", dict(request.path_params),
                               (request.headers.get("authorization") or "").removeprefix("Bearer ")))
        if request.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return Response(status_code=302, headers={"location": "https://slack.com/signin"})
        body = self.file_bodies.get(request.path_params["file_id"])
        return Response(body, media_type="application/octet-stream") if body is not None else Response(status_code=404)

    async def _respond(self, request: Request) -> Response:
        self.responses.append(await request.json())
        return Response("ok")

    async def _socket(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self.socket = websocket
        await websocket.send_text(json.dumps({"type": "hello", "num_connections": 1,
                                              "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A0AIOS"}}))
        try:
            while True:
                message = await websocket.receive_text()
                self.socket_acks.append(json.loads(message))
        except Exception:  # noqa: BLE001 - the client went away
            self.socket = None

    async def push(self, envelope_id: str, payload: dict[str, Any], kind: str = "events_api") -> None:
        """Send one Socket Mode envelope to the connected app."""
        assert self.socket is not None, "the app is not connected over Socket Mode"
        await self.socket.send_text(json.dumps({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                                "accepts_response_payload": kind != "events_api",
                                                "retry_attempt": 0, "retry_reason": ""}))

    def _next_ts(self) -> str:
        return f"17000{next(self._ts):05d}.000100"


def dm(channel: str) -> str:
    """Posting to a user id lands in the bot's DM with them."""
    return "D" + channel[1:] if channel.startswith(("U", "W")) else channel

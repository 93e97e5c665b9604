"""Before the gateway reads a request body: who is calling, and how much they may send.

A pure ASGI middleware, so it sees the body as it streams in (chunked or not) rather than trusting
`Content-Length`. API routes that take a bearer token are authenticated before a byte of their body
is read (document uploads also need the admin role first), and every route has a byte limit that
ends the request with a 413 the moment it is passed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import AssistantError
from assistant.settings import Settings
from channels.auth import admin_user, current_user

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# API paths whose callers do not carry our bearer token: Teams signs its own JWT (checked by the
# route, which needs the activity for the `serviceurl` claim); the docs are pages.
_NOT_BEARER = ("/api/messages", "/api/docs", "/api/openapi.json")
UPLOAD_PATH = "/api/knowledge/documents"
# Room for the multipart framing and the other form fields around an uploaded file.
MULTIPART_OVERHEAD = 1024 * 1024
# After refusing a request, this much of its body is read and thrown away, so that an ordinary
# client, still sending, reads the answer instead of a connection reset; beyond it, the
# connection is just closed.
DISCARD_LIMIT = 1024 * 1024
DISCARD_SECONDS = 5.0


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


class TruncatedMultipart(HTTPException):
    """A multipart body that ended before its closing boundary.

    Raised from `receive` so the multipart parser fails (and closes the temporary files of the
    parts it started) instead of finishing with a half part that no form would ever close.
    """

    def __init__(self) -> None:
        super().__init__(400, "the multipart body ends before its closing boundary")


def multipart_close(content_type: str) -> bytes | None:
    """The close delimiter (`--boundary--`) of a multipart/form-data body; None for other bodies."""
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return b"--" + value.strip('"').encode("latin-1") + b"--"
    return None


@dataclass(frozen=True)
class BodyRule:
    """What a request must show before its body is read, and how large the body may be."""

    limit: int
    bearer: bool = False
    admin: bool = False


def rule_for(settings: Settings, method: str, path: str) -> BodyRule:
    g = settings.gateway
    if path in ("/slack/events", "/api/messages"):
        return BodyRule(g.channel_max_body_bytes)
    bearer = method in _BODY_METHODS and path.startswith("/api/") and not path.startswith(_NOT_BEARER)
    if method == "POST" and path.rstrip("/") == UPLOAD_PATH:
        return BodyRule(settings.knowledge.max_upload_bytes + MULTIPART_OVERHEAD, bearer=True, admin=True)
    return BodyRule(g.max_body_bytes, bearer=bearer)


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": {"code": code, "message": message}}).encode()


class BodyGuard:
    """ASGI middleware: authenticate, then admit at most `rule.limit` bytes of body."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = rule_for(self.settings, scope["method"], scope["path"])
        request = Request(scope)
        refusal = self._refusal(request, rule)
        if refusal is not None:
            # Discard first: uvicorn closes the connection once the answer is complete, and a
            # client still sending would get a reset instead of the answer. Not for a body
            # declared larger than we would discard: that connection is just closed.
            declared = request.headers.get("content-length", "")
            if not declared.isdigit() or int(declared) <= DISCARD_LIMIT:
                await _discard(receive)
            await _respond(send, *refusal)
            return
        received = 0
        # Only a body method's body is parsed as a form; a GET's is read at most to notice a disconnect.
        close = multipart_close(request.headers.get("content-type", "")) if scope["method"] in _BODY_METHODS else None
        tail, closed = b"", False

        async def bounded_receive() -> Message:
            nonlocal received, tail, closed
            message = await receive()
            # Once the answer has started, what is left of the body is no route's input: a page's
            # FileResponse reads on only to notice a disconnect. Nothing to refuse any more.
            if message["type"] == "http.request" and not started:
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > rule.limit:
                    if message.get("more_body", False):
                        await _discard(receive)
                    raise BodyTooLarge(rule.limit)
                if close is not None and not closed:
                    window = tail + chunk
                    closed = close in window
                    tail = window[-len(close):]
                    if not closed and not message.get("more_body", False):
                        raise TruncatedMultipart()
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except BodyTooLarge as exc:  # raised where no exception handler turned it into a response
            if started:
                raise
            await _respond(send, *_error(413, "payload_too_large", exc.detail))

    def _refusal(self, request: Request, rule: BodyRule) -> tuple[int, bytes] | None:
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return _error(400, "bad_request", "invalid Content-Length header")
            if int(length) > rule.limit:
                return _error(413, "payload_too_large", f"request body over {rule.limit} bytes")
        if not rule.bearer:
            return None
        try:  # the routes' own dependencies, run before the body instead of after it
            (admin_user if rule.admin else current_user)(request)
        except AssistantError as exc:
            return exc.status, json.dumps(exc.to_dict()).encode()
        return None


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _discard(receive: Receive) -> None:
    """Read and drop what is left of a refused body: DISCARD_LIMIT bytes, DISCARD_SECONDS at most."""
    async def drop() -> None:
        dropped = 0
        while dropped <= DISCARD_LIMIT:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
            dropped += len(message.get("body", b""))

    try:
        await asyncio.wait_for(drop(), timeout=DISCARD_SECONDS)
    except TimeoutError:
        pass  # a client that sends slowly or not at all: answer now, the connection closes

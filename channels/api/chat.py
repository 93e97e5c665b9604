"""`POST /api/chat`: one conversation turn for the authenticated user."""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.directory import User
from assistant.errors import BadRequest, UnsupportedMediaType
from channels import metrics
from channels.auth import current_user, services_of
from channels.conversation import button_payload, clean_message, turn
from channels.rendering import Message

router = APIRouter()


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str | None = None
    payload: str | None = None
    # The client streams knowledge answers itself (POST /api/knowledge/ask): a message then carries
    # `stream` (the question to ask) instead of the finished answer.
    stream: bool = False


class ChatOut(BaseModel):
    conversation_id: str
    messages: list[Message]


async def parse_body(request: Request) -> ChatIn:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("send the message as application/json")
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise BadRequest("the request body is not valid JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest('the body must be a JSON object: {"message": "..."}', code="invalid_request")
    try:
        body = ChatIn.model_validate(data)
    except ValidationError as exc:
        raise BadRequest("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()),
                         code="invalid_request") from None
    if (body.message is None) == (body.payload is None):
        raise BadRequest('send exactly one of "message" or "payload"', code="invalid_request")
    return body


@router.post("/api/chat", response_model=ChatOut)
async def chat(request: Request, user: User = Depends(current_user)) -> ChatOut:
    t0 = time.perf_counter()
    services = services_of(request)
    outcome = "error"
    try:
        body = await parse_body(request)
        if body.payload is not None:
            text = button_payload(services.settings, body.payload)
        else:
            text = clean_message(body.message or "", limit=services.settings.gateway.max_message_chars)
        messages = await turn(services, user, text, channel="web", stream=body.stream)
        outcome = "ok"
        return ChatOut(conversation_id=user.id, messages=messages)
    finally:
        metrics.CHAT_TURNS.labels(channel="web", outcome=outcome).inc()
        metrics.CHAT_LATENCY.labels(channel="web").observe(time.perf_counter() - t0)

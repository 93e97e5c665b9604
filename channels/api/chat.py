"""`POST /api/chat`: one conversation turn for the authenticated user."""

from __future__ import annotations

import json
import re
import time
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant import health
from assistant.directory import User
from assistant.errors import BadRequest, ServiceUnavailable, UnsupportedMediaType
from channels import metrics
from channels.auth import current_user, services_of
from channels.rendering import Message, from_rasa
from channels.services import GatewayServices

router = APIRouter()

_PAYLOAD = re.compile(r"^/(?P<intent>[a-z_]{1,64})(?P<entities>\{.*\})?$", re.DOTALL)
# Rasa reads a message that starts with "/" as an intent payload: typed text never may, whatever
# mix of slashes and spaces it starts with.
_LEADING_SLASHES = re.compile(r"^[\s/]+")


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str | None = None
    payload: str | None = None


class ChatOut(BaseModel):
    conversation_id: str
    messages: list[Message]


@lru_cache(maxsize=4)
def known_intents(domain_file: Path) -> frozenset[str]:
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    return frozenset(str(i) if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", []))


def clean_message(text: str, *, limit: int) -> str:
    """Visible text only; typed text is never an intent payload (a leading "/" is dropped)."""
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = _LEADING_SLASHES.sub("", text).strip()
    if not text:
        raise BadRequest("the message is empty", code="empty_message")
    if len(text) > limit:
        raise BadRequest(f"the message is longer than {limit} characters", code="message_too_long")
    return text


def check_payload(payload: str, intents: frozenset[str]) -> str:
    """A button payload: /intent or /intent{"entity": "value"} with a known intent and flat JSON."""
    payload = payload.strip()
    m = _PAYLOAD.match(payload)
    if not m or len(payload) > 600:
        raise BadRequest('payload must look like /intent or /intent{"entity": "value"}', code="invalid_payload")
    if m.group("intent") not in intents:
        raise BadRequest(f"unknown intent {m.group('intent')!r}", code="invalid_payload")
    if m.group("entities"):
        try:
            entities = json.loads(m.group("entities"))
        except (ValueError, RecursionError):
            raise BadRequest("payload entities are not valid JSON", code="invalid_payload") from None
        if not isinstance(entities, dict) or not all(
            isinstance(k, str) and isinstance(v, (str, int, float, bool)) for k, v in entities.items()
        ):
            raise BadRequest("payload entities must be a flat JSON object", code="invalid_payload")
    return payload


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


async def turn(services: GatewayServices, user: User, text: str, *, channel: str) -> list[Message]:
    """One turn through Rasa for a directory user; shared by every channel."""
    services.turns.check(user.id)
    settings = services.settings
    # Refuse before Rasa sees the message if the action server is down: otherwise Rasa would
    # record the turn and answer with nothing, and the user would think it was handled.
    actions = await health.check_actions(settings, services.http)
    if not actions.ok:
        raise ServiceUnavailable("The assistant's actions are restarting; your message was not processed. "
                                 "Please try again in a moment.")
    t0 = time.perf_counter()
    replies = await services.rasa.send(user.id, text, metadata={"channel": channel})
    metrics.RASA_LATENCY.observe(time.perf_counter() - t0)
    return from_rasa(replies)


@router.post("/api/chat", response_model=ChatOut)
async def chat(request: Request, user: User = Depends(current_user)) -> ChatOut:
    t0 = time.perf_counter()
    services = services_of(request)
    outcome = "error"
    try:
        body = await parse_body(request)
        if body.payload is not None:
            text = check_payload(body.payload, known_intents(services.settings.rasa.project_dir / "domain.yml"))
        else:
            text = clean_message(body.message or "", limit=services.settings.gateway.max_message_chars)
        messages = await turn(services, user, text, channel="web")
        outcome = "ok"
        return ChatOut(conversation_id=user.id, messages=messages)
    finally:
        metrics.CHAT_TURNS.labels(channel="web", outcome=outcome).inc()
        metrics.CHAT_LATENCY.labels(channel="web").observe(time.perf_counter() - t0)

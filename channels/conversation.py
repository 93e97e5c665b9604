"""The conversation service every channel uses (web, Slack, Teams): typed text cleaned and button
payloads checked, one turn through Rasa, and what the person gets when a turn is slow or fails."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Coroutine
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.exc import SQLAlchemyError

from assistant import health, telemetry
from assistant.directory import User
from assistant.errors import AssistantError, BadRequest, ServiceUnavailable
from assistant.settings import Settings
from channels import metrics
from channels.rasa_client import RasaTurn
from channels.rendering import Message, from_rasa
from channels.services import GatewayServices
from channels.turns import Outcome

log = logging.getLogger(__name__)

FAILED = "Sorry, something went wrong on my side and your message was not processed. Please try again."

TurnFn = Callable[..., Coroutine[Any, Any, list[Message]]]

_PAYLOAD = re.compile(r"^/(?P<intent>[a-z_]{1,64})(?P<entities>\{.*\})?$", re.DOTALL)
# Rasa reads a message that starts with "/" as an intent payload: typed text never may, whatever
# mix of slashes and spaces it starts with.
_LEADING_SLASHES = re.compile(r"^[\s/]+")


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


def button_payload(settings: Settings, payload: str) -> str:
    """A payload checked against the intents of the running assistant's domain."""
    return check_payload(payload, known_intents(settings.rasa.project_dir / "domain.yml"))


async def turn(services: GatewayServices, user: User, text: str, *, channel: str,
               stream: bool = False) -> list[Message]:
    """One turn through Rasa for a directory user; knowledge answers are recorded (for feedback), and
    the turn itself in the turn log, ok or error (channels.turns: the intent, never the text).

    `stream`: the client streams knowledge answers itself (a message then carries `stream`).
    """
    services.turns.check(user.id)  # a refused message is no turn, and costs no write
    started, t0 = time.time(), time.perf_counter()
    seen: list[RasaTurn] = []
    outcome: Outcome = "error"
    try:
        messages = await _turn(services, user, text, channel=channel, stream=stream, seen=seen)
        outcome = "ok"
        return messages
    finally:
        nlu = seen[0] if seen else RasaTurn()
        try:
            await asyncio.to_thread(partial(
                services.turn_log.record, user_id=user.id, channel=channel, outcome=outcome, at=started,
                seconds=time.perf_counter() - t0, intent=nlu.intent, confidence=nlu.confidence))
        except SQLAlchemyError:  # the person still gets their reply
            log.exception("turn_log.write_failed user=%s channel=%s", user.id, channel)


async def _turn(services: GatewayServices, user: User, text: str, *, channel: str, stream: bool,
                seen: list[RasaTurn]) -> list[Message]:
    settings = services.settings
    # Refuse before Rasa sees the message if the action server is down: otherwise Rasa would
    # record the turn and answer with nothing, and the user would think it was handled.
    actions = await health.check_actions(settings, services.http)
    if not actions.ok:
        raise ServiceUnavailable("The assistant's actions are restarting; your message was not processed. "
                                 "Please try again in a moment.")
    t0 = time.perf_counter()
    metadata: dict[str, object] = {"channel": channel}
    if stream:
        metadata["stream"] = True
    telemetry.set_attributes({"aios.conversation_id": user.id, "aios.channel": channel})
    with telemetry.span("rasa.turn", {"aios.conversation_id": user.id}, kind=telemetry.SpanKind.CLIENT) as sent:
        carrier = telemetry.context_carrier()  # the action server continues the trace from the metadata
        if carrier:
            metadata[telemetry.TRACE_METADATA_KEY] = carrier
        reply = await services.rasa.send(user.id, text, metadata=metadata)
        telemetry.set_attributes({"aios.nlu.intent": reply.intent, "aios.nlu.confidence": reply.confidence,
                                  "aios.nlu.candidate": reply.candidate}, sent)
    seen.append(reply)
    metrics.RASA_LATENCY.observe(time.perf_counter() - t0)
    metrics.observe_nlu(reply.intent, reply.confidence, typed=not text.startswith("/"), candidate=reply.candidate)
    messages = from_rasa(reply.replies)
    await record_answers(services, user, messages, channel=channel)
    return messages


async def record_answers(services: GatewayServices, user: User, messages: list[Message], *, channel: str) -> None:
    """Record the knowledge answers among `messages` (for feedback); each gets its `answer_id`."""
    for message in messages:
        answer = message.answer_record()
        if answer is not None:
            message.answer_id = await asyncio.to_thread(
                partial(services.answers.record, user_id=user.id, channel=channel, **answer))


async def converse(run: TurnFn, services: GatewayServices, user: User, text: str, *, channel: str,
                   slow_after: float, on_slow: Callable[[], Awaitable[object]] | None = None) -> list[Message]:
    """A chat app's turn (`run` is `turn`, or a test's stand-in): `on_slow` runs once when the turn
    takes longer than `slow_after` seconds (a placeholder, a typing indicator); a failure becomes
    the message the person reads (theirs for a refusal, a generic one for a crash, logged)."""
    t0 = time.perf_counter()
    work = asyncio.create_task(run(services, user, text, channel=channel))
    if on_slow is not None:
        done, _ = await asyncio.wait({work}, timeout=slow_after)
        if not done:
            await on_slow()
    outcome = "error"
    try:
        messages = await work
        outcome = "ok"
    except AssistantError as exc:
        log.warning("%s.turn_failed user=%s code=%s", channel, user.id, exc.code)
        messages = [Message(text=exc.message)]
    except Exception:
        log.exception("%s.turn_crashed user=%s", channel, user.id)
        messages = [Message(text=FAILED)]
    finally:
        metrics.CHAT_TURNS.labels(channel=channel, outcome=outcome).inc()
        metrics.CHAT_LATENCY.labels(channel=channel).observe(time.perf_counter() - t0)
    return messages

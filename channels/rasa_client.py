"""Talks to the Rasa server on loopback: one user turn in, the assistant's replies out."""

from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from assistant.errors import ServiceUnavailable
from assistant.settings import Settings

log = logging.getLogger(__name__)

NLU_HEADER = "x-aios-nlu"  # set by app/rasa/addons/aios_rasa/channel.py


@dataclass(frozen=True)
class RasaTurn:
    """Rasa's replies to one message, and the intent it read (None when Rasa did not say); for a
    fallback, `candidate` is the intent the classifier leaned to."""

    replies: list[dict[str, Any]] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    candidate: str | None = None


def _intent_name(value: str) -> str | None:
    value = value.strip()
    return value if value and len(value) <= 64 and all(c.isalnum() or c in "_-" for c in value) else None


def parse_nlu_header(value: str | None) -> tuple[str | None, float | None, str | None]:
    """`intent;confidence=0.93[;candidate=other]` -> ("intent", 0.93, "other"); unreadable parts -> None."""
    if not value:
        return None, None, None
    name, *params = value.split(";")
    intent = _intent_name(name)
    if intent is None:
        return None, None, None
    pairs = {key.strip(): value.strip() for key, _, value in (p.partition("=") for p in params)}
    try:
        confidence: float | None = float(pairs.get("confidence", ""))
    except ValueError:
        confidence = None
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        confidence = None
    return intent, confidence, _intent_name(pairs.get("candidate", ""))


class RasaClient:
    """One Rasa process, or several sharing their trackers (SQL) and conversation locks (Redis).

    Each conversation goes to the same process while it is up (stable hash of the sender), which
    keeps lock contention away; when that process cannot be reached, or drops the connection without
    an answer (it died: a kept-alive connection to it fails on the first read), the next one takes
    the turn, as the person's own retry would. A timeout does not move a turn: it may still be running.
    """

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self._urls = [f"{base}/webhooks/rest/webhook" for base in settings.rasa.replicas]
        self._headers = {"Authorization": f"Bearer {settings.rasa_auth_token()}"}  # Rasa answers only us
        self._http = http
        self._timeout = settings.gateway.backend_timeout_seconds

    async def send(self, sender: str, text: str, *, metadata: dict[str, Any] | None = None) -> RasaTurn:
        """Rasa's replies to `text` from `sender` (the directory user id: one identity everywhere)."""
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        t0 = time.perf_counter()
        try:
            response = await self._post(sender, body)
        except httpx.TimeoutException as exc:
            log.warning("rasa.timeout sender=%s", sender)
            raise ServiceUnavailable("The assistant took too long to answer; please try again.") from exc
        except httpx.HTTPError as exc:
            log.warning("rasa.unreachable error=%s", type(exc).__name__)
            raise ServiceUnavailable(
                "The assistant is starting or restarting; your message was not processed. "
                "Please try again in a moment."
            ) from exc
        if response.status_code != 200:
            log.warning("rasa.error status=%s body=%s", response.status_code, response.text[:300])
            raise ServiceUnavailable("The assistant could not process that message; please try again.")
        try:
            replies = response.json()
        except ValueError as exc:
            raise ServiceUnavailable("The assistant sent an unreadable reply; please try again.") from exc
        log.debug("rasa.turn sender=%s replies=%d ms=%.1f", sender, len(replies or []),
                  (time.perf_counter() - t0) * 1000)
        intent, confidence, candidate = parse_nlu_header(response.headers.get(NLU_HEADER))
        return RasaTurn(replies if isinstance(replies, list) else [], intent, confidence, candidate)

    async def _post(self, sender: str, body: dict[str, Any]) -> httpx.Response:
        first = zlib.crc32(sender.encode()) % len(self._urls)
        order = self._urls[first:] + self._urls[:first]
        for url, fallback in zip(order, order[1:], strict=False):
            try:
                return await self._http.post(url, json=body, headers=self._headers, timeout=self._timeout)
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError) as exc:
                log.warning("rasa.replica_unreachable url=%s error=%s next=%s", url, type(exc).__name__, fallback)
        return await self._http.post(order[-1], json=body, headers=self._headers, timeout=self._timeout)

"""Any OpenAI-compatible chat server (llama.cpp's server, vLLM) for answers, streamed over SSE."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import httpx

from assistant.errors import ServiceUnavailable
from knowledge.llm.base import Message

log = logging.getLogger(__name__)


class OpenAIChat:
    def __init__(self, base_url: str, model: str, *, api_key: str | None, timeout: float, parallel: int = 4) -> None:
        self.name = model
        self.parallel = parallel
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers,
                                  timeout=httpx.Timeout(timeout, connect=5.0))

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
               cancelled: Callable[[], bool]) -> Iterator[str]:
        body = {"model": self.name, "messages": list(messages), "max_tokens": max_tokens,
                "temperature": temperature, "stream": True}
        try:
            with self._http.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    log.warning("knowledge.llm.openai_error status=%d body=%s", response.status_code,
                                response.text[:200])
                    raise ServiceUnavailable("the answer model is not available right now", code="model_unavailable")
                for line in response.iter_lines():
                    if cancelled():
                        break
                    piece = _delta(line)
                    if piece is None:
                        break
                    if piece:
                        yield piece
        except httpx.HTTPError as exc:
            log.warning("knowledge.llm.openai_unreachable error=%s", type(exc).__name__)
            raise ServiceUnavailable("the answer model is not reachable right now", code="model_unavailable") from exc

    def close(self) -> None:
        self._http.close()


def _delta(line: str) -> str | None:
    """The text of one SSE line: "" for lines without text, None at the end of the stream."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        event = json.loads(data)
        choice = event["choices"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    return (choice.get("delta") or {}).get("content") or ""

"""The knowledge service over HTTP, for the gateway and the action server (explicit timeouts, no retries)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from assistant.errors import (
    AssistantError,
    BadRequest,
    Busy,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from assistant.settings.knowledge import KnowledgeSettings, service_token
from knowledge.errors import DocumentNotFound
from knowledge.models import DOC_ID, Answer

log = logging.getLogger(__name__)

_BY_STATUS: dict[int, type[AssistantError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 413: PayloadTooLarge,
    415: UnsupportedMediaType, 429: Busy, 503: ServiceUnavailable,
}
UNAVAILABLE = "The knowledge service is not reachable right now; please try again in a moment."


class KnowledgeClient:
    def __init__(self, settings: KnowledgeSettings, secret_key: str, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.base = settings.url
        self.http = http
        self.timeout = httpx.Timeout(settings.request_timeout_seconds, connect=3.0)
        self._token = service_token(secret_key)

    def _headers(self, actor: str | None = None) -> dict[str, str]:
        headers = {"X-AIOS-Knowledge-Token": self._token}
        if actor:
            headers["X-AIOS-Actor"] = actor
        return headers

    async def _call(self, method: str, path: str, *, actor: str | None = None, **kw: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, f"{self.base}{path}", headers=self._headers(actor),
                                               timeout=kw.pop("timeout", self.timeout), **kw)
        except httpx.HTTPError as exc:
            log.warning("knowledge.client.unreachable path=%s error=%s", path, type(exc).__name__)
            raise ServiceUnavailable(UNAVAILABLE, code="knowledge_unavailable") from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    async def health(self) -> dict[str, Any]:
        return (await self._call("GET", "/healthz", timeout=2.0)).json()

    async def documents(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/v1/documents")).json()["documents"]

    async def upload(self, filename: str, data: bytes, *, actor: str, groups: list[str] | None = None,
                     content_type: str | None = None, document_id: str | None = None) -> tuple[int, dict[str, Any]]:
        form = {k: v for k, v in {"groups": ",".join(groups or []), "document_id": document_id}.items() if v}
        files = {"file": (filename, data, content_type or "application/octet-stream")}
        response = await self._call("POST", "/v1/documents", actor=actor, data=form, files=files)
        return response.status_code, response.json()

    async def delete(self, document_id: str, *, actor: str) -> dict[str, Any]:
        if not DOC_ID.match(document_id):
            raise DocumentNotFound(f"no document {document_id!r}")
        return (await self._call("DELETE", f"/v1/documents/{document_id}", actor=actor)).json()

    async def ingestions(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/v1/ingestions")).json()["ingestions"]

    async def reindex(self, *, actor: str) -> dict[str, Any]:
        return (await self._call("POST", "/v1/reindex", actor=actor,
                                 timeout=httpx.Timeout(3600.0, connect=3.0))).json()

    async def search(self, query: str, groups: list[str] | frozenset[str], *, k: int = 5) -> list[dict[str, Any]]:
        body = {"query": query, "groups": sorted(groups), "k": k}
        return (await self._call("POST", "/v1/search", json=body)).json()["results"]

    async def passages(self, document_id: str, groups: list[str] | frozenset[str]) -> dict[str, Any]:
        """The document's passages that `groups` may read (DocumentNotFound otherwise)."""
        if not DOC_ID.match(document_id):
            raise DocumentNotFound("no such document (or not one you may read)")
        body = {"document_id": document_id, "groups": sorted(groups)}
        return (await self._call("POST", "/v1/passages", json=body)).json()

    async def answer(self, question: str, groups: list[str] | frozenset[str], *,
                     previous_question: str | None = None, asker: str = "") -> Answer:
        body = {"question": question, "groups": sorted(groups), "previous_question": previous_question,
                "asker": asker}
        return Answer.model_validate((await self._call("POST", "/v1/answer", json=body)).json())

    async def answer_stream(self, question: str, groups: list[str] | frozenset[str], *,
                            previous_question: str | None = None, asker: str = "") -> AsyncIterator[dict[str, Any]]:
        """The service's NDJSON events: passages, delta..., answer (or error)."""
        body = {"question": question, "groups": sorted(groups), "previous_question": previous_question,
                "stream": True, "asker": asker}
        request = self.http.build_request("POST", f"{self.base}/v1/answer", json=body, headers=self._headers(),
                                          timeout=self.timeout)
        try:
            response = await self.http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(UNAVAILABLE, code="knowledge_unavailable") from exc
        try:
            if response.status_code >= 400:
                await response.aread()
                raise _error(response)
            async for line in response.aiter_lines():
                if line.strip():
                    yield json.loads(line)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(UNAVAILABLE, code="knowledge_unavailable") from exc
        finally:
            await response.aclose()


def _error(response: httpx.Response) -> AssistantError:
    try:
        err = response.json()["error"]
        code, message = str(err["code"]), str(err["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "knowledge_error", f"the knowledge service answered HTTP {response.status_code}"
    cls = _BY_STATUS.get(response.status_code, ServiceUnavailable)
    if response.status_code >= 500 and response.status_code != 503:
        log.error("knowledge.client.server_error status=%d code=%s", response.status_code, code)
        return ServiceUnavailable("the knowledge service had a problem; it has been logged", code=code)
    return cls(message, code=code)

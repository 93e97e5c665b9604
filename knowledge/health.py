"""Is the knowledge service up? For the gateway's /healthz and the `aios up` supervisor."""

from __future__ import annotations

import httpx

from assistant.health import ComponentHealth
from assistant.settings import Settings


async def check_knowledge(settings: Settings, http: httpx.AsyncClient) -> ComponentHealth:
    try:
        response = await http.get(f"{settings.knowledge.url}/healthz", timeout=2.0)
    except httpx.HTTPError as exc:
        return ComponentHealth("knowledge", False, f"unreachable ({type(exc).__name__})")
    if response.status_code != 200:
        return ComponentHealth("knowledge", False, f"HTTP {response.status_code}")
    body = response.json()
    return ComponentHealth("knowledge", True, f"{body.get('documents', 0)} documents, {body.get('chunks', 0)} chunks")

"""Serve an ASGI app on a free loopback port (real HTTP) inside the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app.local_stack import mint_token
from app.serving import serve_local
from assistant.settings import Settings


@asynccontextmanager
async def serve(app, *, port: int | None = None, ws: str = "auto", lifespan: str = "off") -> AsyncIterator[str]:
    async with serve_local(app, port=port, ws=ws, lifespan=lifespan) as url:
        yield url


async def eventually(check, *, timeout: float = 10.0, interval: float = 0.05):
    """The first truthy value of `check()` (sync or async), or the last falsy one after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(interval)


def asgi_client(app, settings: Settings, user: str | None = None) -> httpx.AsyncClient:
    """A client of the gateway `app` in this process (no socket), as `user` (a fresh token) or nobody."""
    headers = {"Authorization": f"Bearer {mint_token(settings, user)}"} if user else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=headers,
                             timeout=30)

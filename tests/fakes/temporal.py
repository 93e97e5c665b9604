"""A Temporal dev server of one's own: tests that read visibility (pending approvals, App Home) must not
see workflows left by other tests whose workers are gone (a query on those waits for its timeout)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.client import Client

from app.local_stack import make_settings, start_temporal


@asynccontextmanager
async def own_temporal(var_dir: Path) -> AsyncIterator[Client]:
    env = await start_temporal(make_settings(var_dir))
    try:
        yield env.client
    finally:
        await env.shutdown()

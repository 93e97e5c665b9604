"""`GET /api/notifications`: the caller's inbox (cards, card updates, messages), long-poll capable."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query, Request

from assistant.directory import User
from channels.auth import current_user
from workflows.notify.models import Notification

router = APIRouter()


@router.get("/api/notifications")
async def inbox(
    request: Request,
    user: User = Depends(current_user),
    after: int = Query(0, ge=0, le=2**63 - 1, description="the last sequence number the caller has seen"),
    wait: float = Query(0, ge=0, le=25, description="seconds to wait for something new"),
    limit: int = Query(100, ge=1, le=500),
    tail: bool = Query(False, description="only where the inbox ends now (a widget that just opened)"),
) -> dict[str, list[Notification] | int]:
    hub = request.app.state.notify
    if tail:
        return {"notifications": [], "last": await asyncio.to_thread(hub.outbox.latest_seq, user.id)}
    items = await asyncio.to_thread(hub.outbox.inbox, user.id, after=after, limit=limit)
    if not items and wait:
        await hub.web.wait(user.id, wait)
        items = await asyncio.to_thread(hub.outbox.inbox, user.id, after=after, limit=limit)
    last = items[-1].seq if items else after
    return {"notifications": items, "last": last}

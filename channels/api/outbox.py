"""`GET /api/admin/outbox`: admins see notifications by delivery state, dead letters first of all."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query, Request

from assistant.directory import User
from channels.auth import admin_user
from workflows.notify.models import Delivery, DeliveryState

router = APIRouter(prefix="/api/admin")


@router.get("/outbox")
async def outbox(
    request: Request,
    user: User = Depends(admin_user),
    state: DeliveryState = Query(DeliveryState.DEAD, description="dead (given up on), pending or delivered"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, list[Delivery]]:
    """Rows in `state`, newest first: who, what kind, attempts, channels given up on and the last error.

    The text and card are left out: an admin needs to see that delivery failed, not what it said.
    """
    hub = request.app.state.notify
    return {"notifications": await asyncio.to_thread(hub.outbox.deliveries, state, limit=limit)}

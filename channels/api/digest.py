"""`GET /api/me/digest` and `PUT /api/me/digest {"enabled": bool}`: the caller's weekly digest, on or off.

Always the caller's own choice (the person comes from the token or session, never from the body). The
digest workflow reads it when it sends, so a change counts from the next digest on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, StrictBool

from assistant.directory import User
from channels.auth import current_user, services_of
from workflows.digest.preferences import DigestPreferences

router = APIRouter()


class DigestChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool


def _view(request: Request, user: User, enabled: bool) -> dict[str, Any]:
    digest = services_of(request).settings.digest
    return {"enabled": enabled, "running": digest.enabled, "weekday": digest.weekday,
            "local_time": digest.local_time, "timezone": user.timezone, "channel": user.preferred_channel}


@router.get("/api/me/digest")
async def get_digest(request: Request, user: User = Depends(current_user)) -> dict[str, Any]:
    """Whether the caller gets the weekly digest, and when and where it comes (`running`: sent at all)."""
    prefs = DigestPreferences(services_of(request).engine)
    return _view(request, user, await asyncio.to_thread(prefs.enabled, user.id))


@router.put("/api/me/digest")
async def set_digest(body: DigestChoice, request: Request, user: User = Depends(current_user)) -> dict[str, Any]:
    """Turn the caller's weekly digest on or off."""
    prefs = DigestPreferences(services_of(request).engine)
    return _view(request, user, await asyncio.to_thread(prefs.set, user.id, body.enabled))

"""`GET /api/me`: who the token belongs to (the widget shows it after login)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from assistant.directory import User
from channels.auth import current_user

router = APIRouter()


@router.get("/api/me")
async def me(user: User = Depends(current_user)) -> dict[str, object]:
    return {"id": user.id, "name": user.name, "email": user.email, "roles": sorted(user.roles),
            "is_admin": user.is_admin}

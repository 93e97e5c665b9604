"""`GET /api/requests` and `GET /api/requests/{id}`: the caller's own requests."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from assistant.directory import User
from channels.auth import current_user, services_of
from workflows.models import RequestStatus, RequestSummary

router = APIRouter()


@router.get("/api/requests")
async def list_requests(
    request: Request,
    user: User = Depends(current_user),
    open_only: bool = Query(False, alias="open"),
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, list[RequestSummary]]:
    client = await services_of(request).requests()
    return {"requests": await client.list_for(user.id, open_only=open_only, limit=limit)}


@router.get("/api/requests/{request_id}")
async def get_request(request_id: str, request: Request, user: User = Depends(current_user)) -> RequestStatus:
    client = await services_of(request).requests()
    return await client.status(request_id.upper(), viewer=user.id)

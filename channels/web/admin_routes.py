"""Serves the admin pages (`/admin`: knowledge, `/admin/insights`); their API calls need an admin token."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from assistant.errors import NotFound
from channels.web.routes import page

router = APIRouter()
STATIC = Path(__file__).parent / "static"
ASSETS = {"admin.js": "text/javascript", "admin.css": "text/css", "insights.js": "text/javascript",
          "insights.css": "text/css"}


@router.get("/admin", include_in_schema=False)
async def admin_page() -> FileResponse:
    return page(STATIC / "admin.html")


@router.get("/admin/insights", include_in_schema=False)
async def insights_page() -> FileResponse:
    """Conversations, answers, requests and approvals over a period (static/insights.js)."""
    return page(STATIC / "insights.html")


@router.get("/admin/{name}", include_in_schema=False)
async def admin_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound("no such file")
    return FileResponse(STATIC / name, media_type=ASSETS[name])

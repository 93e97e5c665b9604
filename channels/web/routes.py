"""Serves the web chat page and its static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter()
STATIC = Path(__file__).parent / "static"


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/doc", include_in_schema=False)
async def document_view() -> FileResponse:
    """A cited document, its cited passage highlighted (static/doc.js; the API checks who reads)."""
    return FileResponse(STATIC / "doc.html", media_type="text/html")


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> FileResponse:
    allowed = {"chat.js": "text/javascript", "chat.css": "text/css", "auth.js": "text/javascript",
               "doc.js": "text/javascript"}
    if name not in allowed:
        from assistant.errors import NotFound

        raise NotFound("no such file")
    return FileResponse(STATIC / name, media_type=allowed[name])

"""Serves the web chat page, the embeddable widget, the document view and their static files.

Pages may be framed only by this site (`frame-ancestors 'self'`), except the widget (/widget),
which the origins in AIOS_GATEWAY_EMBED_ORIGINS may frame too: /embed.js, added to an intranet
page, draws a chat bubble that opens /widget in a frame.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from assistant.errors import NotFound
from channels.auth import services_of

router = APIRouter()
STATIC = Path(__file__).parent / "static"
ASSETS = {"chat.js": "text/javascript", "chat.css": "text/css", "auth.js": "text/javascript",
          "doc.js": "text/javascript", "handoff.js": "text/javascript"}


def page(path: Path, *, frame_ancestors: str = "'self'") -> FileResponse:
    """An HTML page that only `frame_ancestors` may frame; it sends no referrer off-site."""
    return FileResponse(path, media_type="text/html", headers={
        "content-security-policy": f"frame-ancestors {frame_ancestors}",
        "x-content-type-options": "nosniff", "referrer-policy": "same-origin"})


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return page(STATIC / "index.html")


@router.get("/widget", include_in_schema=False)
async def widget(request: Request) -> FileResponse:
    """The chat for a frame on an intranet page (the same page; it lays itself out for a frame)."""
    origins = services_of(request).settings.gateway.embedding_origins()
    return page(STATIC / "index.html", frame_ancestors=" ".join(["'self'", *origins]))


@router.get("/embed.js", include_in_schema=False)
async def embed() -> FileResponse:
    return FileResponse(STATIC / "embed.js", media_type="text/javascript",
                        headers={"cache-control": "max-age=300", "x-content-type-options": "nosniff"})


@router.get("/doc", include_in_schema=False)
async def document_view() -> FileResponse:
    """A cited document, its cited passage highlighted (static/doc.js; the API checks who reads)."""
    return page(STATIC / "doc.html")


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound("no such file")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"x-content-type-options": "nosniff"})

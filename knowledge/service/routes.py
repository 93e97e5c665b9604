"""The knowledge service's HTTP API (loopback; callers present the service token)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from assistant.errors import AssistantError, BadRequest, ServiceUnavailable
from knowledge.errors import DocumentNotFound, DocumentTooLarge
from knowledge.models import SearchResult
from knowledge.runtime import KnowledgeRuntime
from knowledge.service.jobs import Jobs
from knowledge.service.schemas import AnswerIn, PassagesIn, SearchIn

log = logging.getLogger(__name__)
router = APIRouter()


def _runtime(request: Request) -> KnowledgeRuntime:
    return request.app.state.runtime


def _actor(request: Request) -> str:
    actor = request.headers.get("x-aios-actor", "").strip()
    if not actor:
        raise BadRequest("who is making this change? (X-AIOS-Actor header)", code="missing_actor")
    return actor[:64]


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, Any]:
    rt = _runtime(request)
    snap = rt.store.snapshot
    generator = rt.generator
    return {
        "status": "ok",
        "documents": len(snap.documents()),
        "chunks": len(snap.chunks),
        "model": generator.model.name if generator else None,
        "queue": {"in_flight": generator.in_flight, "capacity": generator.capacity} if generator else None,
    }


@router.get("/v1/documents")
async def list_documents(request: Request) -> dict[str, Any]:
    docs = await asyncio.to_thread(_runtime(request).store.documents)
    return {"documents": [d.model_dump(mode="json") for d in docs]}


@router.post("/v1/documents")
async def upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    groups: Annotated[str | None, Form()] = None,
    document_id: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    rt = _runtime(request)
    actor = _actor(request)
    limit = rt.settings.max_upload_bytes
    data = await file.read(limit + 1)
    filename = (file.filename or "").strip() or "upload"
    if len(data) > limit:
        raise DocumentTooLarge(f"{filename!r} is over the limit of {limit // 1048576} MB")
    group_list = [g.strip() for g in (groups or "").split(",") if g.strip()] or None
    jobs: Jobs = request.app.state.jobs
    job = jobs.start(filename, actor)
    try:
        result = await asyncio.to_thread(
            rt.store.ingest, filename, data, actor=actor, groups=group_list, document_id=document_id or None,
            progress=lambda stage, done, total: jobs.progress(job, stage, done, total),
        )
    except AssistantError as exc:
        job.stage, job.error = "failed", exc.message
        raise
    except Exception:
        job.stage, job.error = "failed", "internal error"
        raise
    job.stage = "done"
    status = 200 if result.status == "unchanged" else 201
    return JSONResponse(result.model_dump(), status_code=status)


@router.get("/v1/ingestions")
async def ingestions(request: Request) -> dict[str, Any]:
    return {"ingestions": request.app.state.jobs.all()}


@router.delete("/v1/documents/{document_id}")
async def delete(document_id: str, request: Request) -> dict[str, Any]:
    actor = _actor(request)
    info = await asyncio.to_thread(_runtime(request).store.delete, document_id, actor=actor)
    return {"id": info.id, "title": info.title, "deleted": True}


@router.post("/v1/reindex")
async def reindex(request: Request) -> dict[str, Any]:
    actor = _actor(request)
    rt = _runtime(request)
    chunks = await asyncio.to_thread(rt.store.reindex, actor=actor)
    return {"documents": rt.store.registry.count(), "chunks": chunks}


@router.post("/v1/search")
async def search(body: SearchIn, request: Request) -> dict[str, Any]:
    rt = _runtime(request)
    retrieval = await asyncio.to_thread(rt.retriever.search, body.query, body.groups, k=body.k)
    results = [SearchResult(document_id=h.chunk.document_id, title=h.chunk.title, section=h.chunk.section,
                            text=h.chunk.text, score=round(h.score, 5), chunk_id=h.chunk.id)
               for h in retrieval.hits]
    return {"results": [r.model_dump() for r in results], "elapsed_ms": round(retrieval.elapsed_ms, 2)}


@router.post("/v1/passages")
async def passages(body: PassagesIn, request: Request) -> dict[str, Any]:
    """A document's passages in order, for the document view, if `groups` may read it (else 404: the
    caller learns nothing about a document they may not read, not even that it exists)."""
    snap = _runtime(request).store.snapshot
    mine = set(body.groups)
    chunks = sorted((c for c in snap.chunks if c.document_id == body.document_id
                     and mine.intersection(c.groups.split(","))), key=lambda c: c.position)
    if not chunks:
        raise DocumentNotFound("no such document (or not one you may read)")
    return {"document_id": body.document_id, "title": chunks[0].title,
            "passages": [{"chunk_id": c.id, "section": c.section, "headings": c.headings, "text": c.text}
                         for c in chunks]}


@router.post("/v1/answer")
async def answer(body: AnswerIn, request: Request) -> Response:
    rt = _runtime(request)
    if rt.answerer is None:
        raise ServiceUnavailable("answers are disabled in this service", code="answers_disabled")
    events = rt.answerer.stream(body.question, body.groups, previous_question=body.previous_question,
                                asker=body.asker)
    if not body.stream:
        final: dict[str, Any] | None = None
        async for event in events:
            if event["type"] == "answer":
                final = event["answer"].model_dump(mode="json")
        return JSONResponse(final)
    # Start generating before the response begins, so "busy" is still a clean 429, not a broken stream.
    first = await anext(events)
    return StreamingResponse(_ndjson(first, events), media_type="application/x-ndjson")


async def _ndjson(first: dict[str, Any], rest: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    yield _line(first)
    try:
        async for event in rest:
            yield _line(event)
    except AssistantError as exc:
        yield _line({"type": "error", "error": {"code": exc.code, "message": exc.message}})


def _line(event: dict[str, Any]) -> bytes:
    return (json.dumps(_jsonable(event), ensure_ascii=False) + "\n").encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    """Prometheus (knowledge.metrics), behind the service token like every route but /healthz (the
    guard also takes it as a bearer, which is what scrapers send)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

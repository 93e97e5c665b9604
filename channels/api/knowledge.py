"""`/api/knowledge/*`: admins manage documents; everyone searches and asks within what they may read.

The gateway decides who may do what (identity from the token, admin role from the directory) and
calls the knowledge service with the caller's id and groups; the service filters by those groups.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.directory import User
from assistant.errors import AssistantError
from assistant.health import ComponentHealth
from channels.auth import admin_user, current_user, services_of
from channels.conversation import record_answers
from channels.rendering import from_rasa
from channels.services import GatewayServices
from knowledge.client import KnowledgeClient
from knowledge.errors import DocumentTooLarge
from knowledge.health import check_knowledge
from knowledge.models import Answer
from knowledge.presentation import shown

router = APIRouter(prefix="/api/knowledge")


def knowledge_client(request: Request) -> KnowledgeClient:
    services = services_of(request)
    settings = services.settings
    return KnowledgeClient(settings.knowledge, settings.core.secret_key.get_secret_value(), services.http)


async def knowledge_health(services: GatewayServices) -> ComponentHealth:
    """For the gateway's /healthz (channels.api.health.EXTRA_CHECKS)."""
    return await check_knowledge(services.settings, services.http)


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000)
    previous_question: str | None = Field(None, max_length=2000)
    stream: bool = False


@router.post("/documents", status_code=201)
async def upload_document(
    request: Request,
    file: Annotated[UploadFile, File(description="PDF, DOCX, HTML, Markdown or text")],
    groups: Annotated[str | None, Form(description="comma-separated groups that may read it")] = None,
    user: User = Depends(admin_user),
) -> JSONResponse:
    client = knowledge_client(request)
    limit = client.settings.max_upload_bytes
    data = await file.read(limit + 1)
    filename = file.filename or "upload"
    if len(data) > limit:
        raise DocumentTooLarge(f"{filename!r} is over the limit of {limit // 1048576} MB")
    group_list = [g.strip() for g in (groups or "").split(",") if g.strip()] or None
    status, body = await client.upload(filename, data, actor=user.id, groups=group_list,
                                       content_type=file.content_type)
    return JSONResponse(body, status_code=status)


@router.get("/documents")
async def list_documents(request: Request, user: User = Depends(admin_user)) -> dict[str, Any]:
    return {"documents": await knowledge_client(request).documents()}


@router.delete("/documents/{document_id}")
async def delete_document(document_id: str, request: Request, user: User = Depends(admin_user)) -> dict[str, Any]:
    return await knowledge_client(request).delete(document_id, actor=user.id)


@router.get("/documents/{document_id}/passages")
async def document_passages(document_id: str, request: Request, user: User = Depends(current_user)) -> dict[str, Any]:
    """A document as the reader may see it (the document view of a citation); 404 when they may not."""
    return await knowledge_client(request).passages(document_id, user.groups)


@router.get("/ingestions")
async def ingestions(request: Request, user: User = Depends(admin_user)) -> dict[str, Any]:
    return {"ingestions": await knowledge_client(request).ingestions()}


@router.get("/search")
async def search(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    k: Annotated[int, Query(ge=1, le=20)] = 5,
    user: User = Depends(current_user),
) -> dict[str, Any]:
    results = await knowledge_client(request).search(q, user.groups, k=k)
    return {"results": [{key: r[key] for key in ("document_id", "title", "section", "text", "score")}
                        for r in results]}


@router.post("/ask", response_model=None)
async def ask(body: AskIn, request: Request, user: User = Depends(current_user)) -> JSONResponse | StreamingResponse:
    """An answer with citations; with `"stream": true`, NDJSON events as the model writes.

    The answer comes with `message` (as the chat shows it: citations numbered in order, tables as
    blocks) and `answer_id` (recorded, for feedback).
    """
    services = services_of(request)
    services.questions.check(user.id)
    client = knowledge_client(request)
    if not body.stream:
        answer = await client.answer(body.question, user.groups, previous_question=body.previous_question,
                                     asker=user.id)
        return JSONResponse(await _presented(services, user, body.question, answer.model_dump(mode="json")))
    events = client.answer_stream(body.question, user.groups, previous_question=body.previous_question,
                                  asker=user.id)
    first = await anext(events)  # errors (busy, unavailable) still become a clean JSON status
    return StreamingResponse(_relay(services, user, body.question, first, events),
                             media_type="application/x-ndjson")


async def _presented(services: GatewayServices, user: User, question: str, answer: dict[str, Any]) -> dict[str, Any]:
    """`answer` (the service's JSON) with the chat's `message` for it, recorded under `answer_id`."""
    message = from_rasa([{"custom": shown(Answer.model_validate(answer), question)}])[0]
    await record_answers(services, user, [message], channel="web")
    return answer | {"message": message.model_dump(mode="json"), "answer_id": message.answer_id}


async def _relay(services: GatewayServices, user: User, question: str, first: dict[str, Any],
                 rest: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    try:
        yield await _line(services, user, question, first)
        async for event in rest:
            yield await _line(services, user, question, event)
    except AssistantError as exc:
        yield (json.dumps({"type": "error", "error": {"code": exc.code, "message": exc.message}}) + "\n").encode()


async def _line(services: GatewayServices, user: User, question: str, event: dict[str, Any]) -> bytes:
    if event.get("type") == "answer" and isinstance(event.get("answer"), dict):
        event = event | {"answer": await _presented(services, user, question, event["answer"])}
    return (json.dumps(event) + "\n").encode()

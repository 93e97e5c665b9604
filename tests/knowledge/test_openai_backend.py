"""The OpenAI-compatible backend against a local server speaking that wire format (SSE chunks)."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from app.local_stack import free_port
from assistant.errors import ServiceUnavailable
from assistant.settings.knowledge import KnowledgeSettings
from knowledge.llm import GenerationQueue, build_chat_model
from tests.knowledge.conftest import serve


def fake_inference_server(seen: list[dict]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request):
        body = await request.json()
        seen.append({"body": body, "auth": request.headers.get("authorization")})
        if body["model"] == "broken":
            return JSONResponse({"error": {"message": "model not loaded"}}, status_code=500)

        async def events():
            for piece in ["Twenty-five", " days", " [1]."]:
                chunk = {"id": "c1", "object": "chat.completion.chunk", "model": body["model"],
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
async def server():
    seen: list[dict] = []
    port = free_port()
    async with serve(fake_inference_server(seen), "127.0.0.1", port):
        yield f"http://127.0.0.1:{port}/v1", seen


def queue_for(base_url: str, model: str) -> GenerationQueue:
    settings = KnowledgeSettings(llm_backend="openai", openai_base_url=base_url, openai_model=model,
                                 openai_api_key="sk-local")
    return GenerationQueue(build_chat_model(settings), max_waiting=2, timeout=30)


async def test_streams_text_from_an_openai_compatible_server(server):
    base_url, seen = server
    queue = queue_for(base_url, "llama-3-8b")
    try:
        messages = [{"role": "user", "content": "how many vacation days?"}]
        text = "".join([p async for p in queue.stream(messages, max_tokens=32, temperature=0.0)])
    finally:
        queue.close()
    assert text == "Twenty-five days [1]."
    assert seen[-1]["body"]["stream"] is True and seen[-1]["body"]["messages"] == messages
    assert seen[-1]["auth"] == "Bearer sk-local"
    assert queue.workers > 1  # a separate server batches requests itself


async def test_server_errors_are_clean_service_unavailable(server):
    base_url, _ = server
    for queue in (queue_for(base_url, "broken"), queue_for(f"http://127.0.0.1:{free_port()}/v1", "any")):
        try:
            with pytest.raises(ServiceUnavailable):
                async for _ in queue.stream([{"role": "user", "content": "hi"}], max_tokens=8, temperature=0.0):
                    pass
        finally:
            queue.close()

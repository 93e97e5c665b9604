"""The knowledge service over real HTTP: documents, search, answers, busy, and its guard."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from app.local_stack import free_port, make_settings
from assistant.settings.knowledge import service_token
from knowledge.llm import GenerationQueue, build_chat_model
from knowledge.service import create_app
from tests.knowledge import docs
from tests.knowledge.conftest import open_runtime, serve


@pytest.fixture(scope="module")
async def service(tmp_path_factory, embedder, generation):
    settings = make_settings(tmp_path_factory.mktemp("service"))
    settings.knowledge.port = free_port()
    settings.knowledge.max_upload_bytes = 1024 * 1024
    rt = open_runtime(settings, settings.core.var_dir, embedder, generation)
    async with serve(create_app(settings, runtime=rt), settings.knowledge.host, settings.knowledge.port):
        headers = {"X-AIOS-Knowledge-Token": service_token(settings.core.secret_key.get_secret_value()),
                   "X-AIOS-Actor": "erin"}
        async with httpx.AsyncClient(base_url=settings.knowledge.url, headers=headers, timeout=120) as http:
            yield http
    rt.close(close_generator=False)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


async def upload(http, name, data, groups=None, **kw):
    form = {"groups": groups} if groups else {}
    return await http.post("/v1/documents", files={"file": (name, data)}, data=form, **kw)


async def test_health_needs_no_token_but_everything_else_does(service):
    async with httpx.AsyncClient(base_url=str(service.base_url)) as anonymous:
        assert (await anonymous.get("/healthz")).status_code == 200
        assert_error(await anonymous.get("/v1/documents"), 401, "invalid_service_token")
        bad = {"X-AIOS-Knowledge-Token": "guess"}
        assert_error(await anonymous.post("/v1/search", json={"query": "x", "groups": ["all-staff"]}, headers=bad),
                     401)


@pytest.mark.parametrize("ext", sorted(docs.FORMATS))
async def test_upload_list_and_delete_each_format(service, ext):
    name = f"garage-{ext}.{ext}"
    created = await upload(service, name, docs.FORMATS[ext](docs.PARKING), groups="all-staff,facilities")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == f"garage-{ext}" and body["title"] == "Parking guide" and body["chunks"] >= 3
    again = await upload(service, name, docs.FORMATS[ext](docs.PARKING), groups="all-staff,facilities")
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    listed = {d["id"]: d for d in (await service.get("/v1/documents")).json()["documents"]}
    assert listed[body["id"]]["groups"] == ["all-staff", "facilities"]
    assert listed[body["id"]]["created_by"] == "erin"
    deleted = await service.delete(f"/v1/documents/{body['id']}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert_error(await service.delete(f"/v1/documents/{body['id']}"), 404, "document_not_found")


@pytest.mark.parametrize(("name", "make", "status", "code"), [
    ("broken.pdf", docs.corrupt_pdf, 400, "invalid_document"),
    ("locked.pdf", lambda: docs.pdf(docs.PARKING, password="pw"), 400, "invalid_document"),
    ("empty.md", lambda: b"", 400, "empty_document"),
    ("virus.exe", lambda: b"MZ" * 100, 415, "unsupported_document"),
    ("bomb.docx", lambda: docs.zip_bomb_docx(300 * 1024 * 1024), 400, "invalid_document"),
    ("big.txt", lambda: b"x " * (1024 * 1024), 413, "document_too_large"),
])
async def test_bad_files_are_refused_with_a_clear_message(service, name, make, status, code):
    before = (await service.get("/v1/documents")).json()
    error = assert_error(await upload(service, name, make()), status, code)
    assert name in error["message"] or "limit" in error["message"]
    assert (await service.get("/v1/documents")).json() == before


async def test_changes_need_an_actor_and_valid_groups(service):
    assert_error(await upload(service, "a.md", b"# A\n\nSome text here.", headers={"X-AIOS-Actor": ""}), 400,
                 "missing_actor")
    assert_error(await upload(service, "a.md", b"# A\n\nSome text here.", groups="bad group!"), 400,
                 "invalid_groups")


async def test_search_only_returns_what_the_groups_may_read(service):
    assert (await upload(service, "oncall.md", docs.markdown([("Pay", "The on-call allowance is 250 EUR per week.")],
                                                             title="On-call"), groups="engineering")).status_code == 201
    try:
        search = {"query": "on-call allowance per week", "k": 5}
        engineers = (await service.post("/v1/search", json={**search, "groups": ["engineering"]})).json()
        assert engineers["results"][0]["document_id"] == "oncall"
        finance = (await service.post("/v1/search", json={**search, "groups": ["finance", "all-staff"]})).json()
        assert all(r["document_id"] != "oncall" for r in finance["results"])
        assert_error(await service.post("/v1/search", json={"query": "", "groups": []}), 400, "invalid_request")
    finally:
        await service.delete("/v1/documents/oncall")


async def test_answers_plain_and_streamed(service):
    await upload(service, "parking.md", docs.markdown(docs.PARKING))
    try:
        question = {"question": "how much does it cost to charge a private electric car?", "groups": ["all-staff"]}
        plain = (await service.post("/v1/answer", json=question)).json()
        assert plain["kind"] in ("answer", "fallback") and plain["citations"][0]["document_id"] == "parking"
        async with service.stream("POST", "/v1/answer", json={**question, "stream": True}) as response:
            assert response.headers["content-type"].startswith("application/x-ndjson")
            events = [json.loads(line) async for line in response.aiter_lines() if line]
        assert events[0]["type"] == "passages" and events[-1]["type"] == "answer"
        assert events[-1]["answer"]["citations"]
        dont_know = (await service.post("/v1/answer", json={"question": "who won the football match?",
                                                            "groups": ["all-staff"]})).json()
        assert dont_know["kind"] == "dont_know"
    finally:
        await service.delete("/v1/documents/parking")


async def test_a_full_queue_answers_429_busy(tmp_path, embedder, knowledge_base_settings):
    settings = make_settings(tmp_path)
    settings.knowledge.port = free_port()
    tight = GenerationQueue(build_chat_model(knowledge_base_settings.knowledge), max_waiting=0, timeout=120)
    rt = open_runtime(settings, tmp_path, embedder, tight)
    rt.store.ingest("parking.md", docs.markdown(docs.PARKING), actor="erin")
    headers = {"X-AIOS-Knowledge-Token": service_token(settings.core.secret_key.get_secret_value())}
    question = {"question": "how much does it cost to charge a private electric car?", "groups": ["all-staff"]}
    long_story = [{"role": "user", "content": "Tell a very long story about the sea."}]
    try:
        async with serve(create_app(settings, runtime=rt), settings.knowledge.host, settings.knowledge.port):
            async with httpx.AsyncClient(base_url=settings.knowledge.url, headers=headers, timeout=120) as http:
                occupied = tight.stream(long_story, max_tokens=400, temperature=0.0)
                await anext(occupied)  # the one model slot is now taken
                for stream in (False, True):
                    busy = await http.post("/v1/answer", json={**question, "stream": stream})
                    assert_error(busy, 429, "busy")
                    assert "try again" in busy.json()["error"]["message"]
                await occupied.aclose()
                for _ in range(100):
                    if tight.in_flight == 0:
                        break
                    await asyncio.sleep(0.1)
                assert (await http.post("/v1/answer", json=question)).status_code == 200
    finally:
        rt.close()

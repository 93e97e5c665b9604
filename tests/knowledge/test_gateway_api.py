"""The gateway's /api/knowledge routes over real HTTP, with the real knowledge service behind them.

Only erin (admin) manages documents; everyone searches and asks within their own groups; the
service being down is a clean 503.
"""

from __future__ import annotations

import httpx
import pytest

from app.local_stack import free_port, make_settings, serve_gateway
from assistant.directory import Directory
from assistant.tokens import TokenService
from channels.app import create_app as create_gateway
from knowledge.service import create_app as create_knowledge
from tests.knowledge import docs
from tests.knowledge.conftest import open_runtime, serve


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory, embedder, generation):
    settings = make_settings(tmp_path_factory.mktemp("gateway"))
    settings.temporal.address = "127.0.0.1:1"  # not needed by these routes
    rt = open_runtime(settings, settings.core.var_dir, embedder, generation)
    async with serve(create_knowledge(settings, runtime=rt), settings.knowledge.host, settings.knowledge.port):
        async with serve_gateway(create_gateway(settings), settings):
            yield settings, rt
    rt.close(close_generator=False)


def client(settings, user: str | None) -> httpx.AsyncClient:
    headers = {}
    if user:
        tokens = TokenService(settings.core.secret_key.get_secret_value(),
                              Directory.load(settings.core.directory_file), ttl_seconds=600)
        headers["Authorization"] = f"Bearer {tokens.mint(user)}"
    return httpx.AsyncClient(base_url=settings.gateway.url, headers=headers, timeout=120)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    if code:
        assert response.json()["error"]["code"] == code


async def test_only_admins_manage_documents(gateway):
    settings, _ = gateway
    files = {"file": ("parking.md", docs.markdown(docs.PARKING), "text/markdown")}
    async with client(settings, "alice") as alice:
        assert_error(await alice.post("/api/knowledge/documents", files=files), 403, "forbidden")
        assert_error(await alice.get("/api/knowledge/documents"), 403)
        assert_error(await alice.delete("/api/knowledge/documents/parking"), 403)
        assert_error(await alice.get("/api/knowledge/ingestions"), 403)
    async with client(settings, None) as anonymous:
        assert_error(await anonymous.post("/api/knowledge/documents", files=files), 401)
        assert_error(await anonymous.get("/api/knowledge/search", params={"q": "parking"}), 401)


async def test_admin_uploads_lists_and_deletes_with_an_audit_trail(gateway):
    settings, rt = gateway
    async with client(settings, "erin") as erin:
        created = await erin.post("/api/knowledge/documents", data={"groups": "all-staff"},
                                  files={"file": ("parking.docx", docs.docx_bytes(docs.PARKING))})
        assert created.status_code == 201, created.text
        assert {"id", "title", "chunks"} <= set(created.json()) and created.json()["id"] == "parking"
        listed = (await erin.get("/api/knowledge/documents")).json()["documents"]
        assert [d["id"] for d in listed] == ["parking"] and listed[0]["updated_by"] == "erin"
        assert (await erin.get("/api/knowledge/ingestions")).json()["ingestions"][-1]["stage"] == "done"
        assert (await erin.delete("/api/knowledge/documents/parking")).status_code == 200
        assert_error(await erin.delete("/api/knowledge/documents/parking"), 404)
        assert_error(await erin.delete("/api/knowledge/documents/..%2Fv1%2Freindex"), 404)
    trail = [(e["event"], e["actor"]) for e in rt.store.audit.entries()]
    assert trail == [("knowledge.document.added", "erin"), ("knowledge.document.removed", "erin")]


async def test_bad_uploads_are_clean_4xx(gateway):
    settings, _ = gateway
    async with client(settings, "erin") as erin:
        assert_error(await erin.post("/api/knowledge/documents", files={"file": ("x.pdf", docs.corrupt_pdf())}),
                     400, "invalid_document")
        assert_error(await erin.post("/api/knowledge/documents", files={"file": ("x.exe", b"MZ" * 40)}), 415)
        assert_error(await erin.post("/api/knowledge/documents", data={"groups": "all-staff"}), 400)
        assert_error(await erin.post("/api/knowledge/documents", json={"file": "nope"}), 400)
        too_big = b"a " * (settings.knowledge.max_upload_bytes // 2 + 10)
        assert_error(await erin.post("/api/knowledge/documents", files={"file": ("big.txt", too_big)}), 413)


async def test_search_and_ask_stay_within_the_callers_groups(gateway):
    settings, _ = gateway
    oncall = docs.markdown([("Pay", "The on-call allowance is 250 EUR per week of primary on-call.")],
                           title="Engineering on-call")
    async with client(settings, "erin") as erin:
        assert (await erin.post("/api/knowledge/documents", data={"groups": "engineering"},
                                files={"file": ("oncall.md", oncall)})).status_code == 201
    try:
        async with client(settings, "alice") as alice:  # engineering
            found = (await alice.get("/api/knowledge/search", params={"q": "on-call allowance"})).json()
            assert found["results"][0]["document_id"] == "oncall"
            assert set(found["results"][0]) == {"document_id", "title", "section", "text", "score"}
            answer = (await alice.post("/api/knowledge/ask", json={"question": "how much is the on-call allowance?"}))
            assert answer.json()["citations"][0]["document_id"] == "oncall"
        async with client(settings, "dave") as dave:  # finance
            found = (await dave.get("/api/knowledge/search", params={"q": "on-call allowance"})).json()
            assert all(r["document_id"] != "oncall" for r in found["results"])
            answer = (await dave.post("/api/knowledge/ask", json={"question": "how much is the on-call allowance?",
                                                                 "stream": True}))
            assert answer.status_code == 200
            assert "oncall" not in answer.text
    finally:
        async with client(settings, "erin") as erin:
            await erin.delete("/api/knowledge/documents/oncall")


async def test_knowledge_down_is_a_clean_503_and_shows_in_health(tmp_path):
    settings = make_settings(tmp_path)
    settings.knowledge.port = free_port()  # nothing listens there
    settings.temporal.address = "127.0.0.1:1"
    async with serve_gateway(create_gateway(settings), settings):
        async with client(settings, "alice") as alice:
            assert_error(await alice.get("/api/knowledge/search", params={"q": "vpn"}), 503, "knowledge_unavailable")
            health = await alice.get("/healthz")
            assert health.json()["components"]["knowledge"]["ok"] is False


async def test_the_admin_page_and_its_assets_are_served(gateway):
    settings, _ = gateway
    async with client(settings, None) as anonymous:
        page = await anonymous.get("/admin")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Knowledge admin" in page.text and "/admin/admin.js" in page.text
        script = await anonymous.get("/admin/admin.js")
        assert script.status_code == 200 and "/api/knowledge/documents" in script.text
        assert (await anonymous.get("/admin/admin.css")).status_code == 200
        assert_error(await anonymous.get("/admin/secrets.txt"), 404)

"""The real service process: seeded on first start, and a restart loses nothing."""

from __future__ import annotations

import httpx

from app.local_stack import make_settings, start_knowledge
from knowledge.client import KnowledgeClient
from tests.knowledge import docs


async def test_a_restarted_service_keeps_every_document(tmp_path):
    settings = make_settings(tmp_path)
    child = await start_knowledge(settings)
    try:
        async with httpx.AsyncClient() as http:
            client = KnowledgeClient(settings.knowledge, settings.core.secret_key.get_secret_value(), http)
            seeded = {d["id"] for d in await client.documents()}
            assert {"time-off-policy", "vpn-setup", "expense-policy", "information-security"} <= seeded
            status, body = await client.upload("parking.pdf", docs.pdf(docs.PARKING), actor="erin",
                                               groups=["all-staff"])
            assert status == 201
            before = await client.documents()
            hits_before = await client.search("charging an electric car", ["all-staff"])
            child.stop()
            child = await start_knowledge(settings)  # not seeded again: the store is not empty
            assert await client.documents() == before
            assert await client.search("charging an electric car", ["all-staff"]) == hits_before
            assert hits_before[0]["document_id"] == "parking"
            health = await client.health()
            assert health["documents"] == len(before) and health["model"].endswith(".gguf")
    finally:
        child.stop()

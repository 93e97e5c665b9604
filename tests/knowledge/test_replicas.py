"""Two knowledge services on one store (a Chroma server, the registry in PostgreSQL): a document
added through one is found through the other, and writes through both at once are taken in turn."""

from __future__ import annotations

import asyncio

import httpx

from app.local_stack import make_settings, start_knowledge
from knowledge.client import KnowledgeClient
from tests.dbs import dispose_all, migrated
from tests.fakes.server import eventually
from tests.knowledge import docs


async def test_a_document_added_through_one_replica_is_found_through_the_other(tmp_path, postgres, chroma_server):
    url = postgres.create_database("knowledge_replicas")
    migrated(url, "core", "knowledge")  # on PostgreSQL, `aios db upgrade` is the operator's step
    base = make_settings(tmp_path, database_url=url)
    base.knowledge.chroma_url = chroma_server
    base.knowledge.collection_prefix = "replicas"
    base.knowledge.refresh_seconds = 0.5
    first, second = base.model_copy(deep=True), base.model_copy(deep=True)
    second.knowledge.port = base.knowledge.port + 1 if base.knowledge.port < 65000 else base.knowledge.port - 1
    empty = tmp_path / "no-seed"
    empty.mkdir()
    children = []
    try:
        for s in (first, second):
            children.append(await start_knowledge(s, seed=empty))
        async with httpx.AsyncClient() as http:
            secret = base.core.secret_key.get_secret_value()
            one, two = KnowledgeClient(first.knowledge, secret, http), KnowledgeClient(second.knowledge, secret, http)
            status, added = await one.upload("parking.md", docs.markdown(docs.PARKING), actor="erin",
                                             groups=["all-staff"])
            assert (status, added["status"]) == (201, "created")

            async def found_through_the_other():
                hits = await two.search("electric car charging cost", ["all-staff"])
                return hits if hits and hits[0]["document_id"] == "parking" else None

            assert await eventually(found_through_the_other, timeout=20)
            # BM25 too: words only the new document has.
            lexical = await two.search("underground garage", ["all-staff"])
            assert lexical and lexical[0]["document_id"] == "parking"

            # Both replicas write at once: one after the other, none lost, one version each.
            oncall = docs.markdown([("Pay", "On-call pays 250 EUR per week.")], title="On-call")
            travel = docs.markdown([("Trains", "Book second class for every train journey under four hours; "
                                     "first class needs your manager's approval in advance.")], title="Travel")
            results = await asyncio.gather(one.upload("oncall.md", oncall, actor="erin", groups=["engineering"]),
                                           two.upload("travel.md", travel, actor="erin", groups=["all-staff"]))
            assert {(code, r["status"]) for code, r in results} == {(201, "created")}
            for client in (one, two):
                listed = await eventually(lambda c=client: _all_three(c), timeout=20)
                assert sorted(d["id"] for d in listed) == ["oncall", "parking", "travel"]
            removed = await two.delete("parking", actor="erin")
            assert removed["deleted"]

            async def gone_from_the_first():
                return not [h for h in await one.search("electric car charging cost", ["all-staff"])
                            if h["document_id"] == "parking"]

            assert await eventually(gone_from_the_first, timeout=20)
    finally:
        for child in children:
            child.stop()
        dispose_all()


async def _all_three(client: KnowledgeClient):
    listed = await client.documents()
    return listed if len(listed) == 3 else None

"""At scale the store is a Chroma server (HttpClient): the same ingest, search, delete and reload."""

from __future__ import annotations

from tests.knowledge import docs
from tests.knowledge.conftest import open_runtime


def test_store_on_a_chroma_server(chroma_server, knowledge_base_settings, tmp_path, embedder):
    settings = knowledge_base_settings.model_copy(deep=True)
    settings.knowledge.chroma_url = chroma_server
    first = open_runtime(settings, tmp_path, embedder, None)
    try:
        first.store.ingest("parking.md", docs.markdown(docs.PARKING), actor="erin", groups=["all-staff"])
        first.store.ingest("oncall.md", docs.markdown([("Pay", "On-call pays 250 EUR per week.")], title="On-call"),
                           actor="erin", groups=["engineering"])
        assert first.retriever.search("electric car charging cost", {"all-staff"}).hits[0].chunk.document_id == \
            "parking"
        assert not first.retriever.search("on-call pay", {"finance"}).hits
        ids = sorted(c.id for c in first.store.snapshot.chunks)
    finally:
        first.close()
    second = open_runtime(settings, tmp_path, embedder, None)
    try:
        assert sorted(c.id for c in second.store.snapshot.chunks) == ids
        second.store.delete("parking", actor="erin")
        assert not second.retriever.search("electric car charging cost", {"all-staff"}).hits
    finally:
        second.close()

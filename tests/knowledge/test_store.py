"""The store: ingest, no-op re-ingest, atomic new versions, delete, reindex, restart."""

from __future__ import annotations

import threading
import time

import pytest

from assistant.errors import AssistantError
from knowledge.errors import DocumentNotFound
from tests.knowledge import docs
from tests.knowledge.conftest import audit_events, open_runtime

ALL = {"all-staff"}


def chunk_ids(store, document_id):
    return sorted(c.id for c in store.snapshot.chunks if c.document_id == document_id)


def chroma_ids(store, document_id):
    ids = []
    for acl, name in store.snapshot.collections.items():
        got = store.collection(name, acl).get(where={"document_id": document_id}, include=[])
        ids += got["ids"]
    return sorted(ids)


def test_ingest_indexes_chunks_with_their_metadata(store, runtime):
    result = store.ingest("parking.md", docs.markdown(docs.PARKING), actor="erin", groups=["all-staff"])
    assert (result.id, result.version, result.status) == ("parking", 1, "created")
    chunks = [c for c in store.snapshot.chunks if c.document_id == "parking"]
    assert len(chunks) == result.chunks >= 3
    electric = next(c for c in chunks if c.section == "Electric cars")
    assert electric.title == "Parking guide" and electric.groups == "all-staff" and electric.version == 1
    assert electric.id == f"parking:v1:{electric.position:05d}" and len(electric.content_hash) == 16
    assert chroma_ids(store, "parking") == chunk_ids(store, "parking")
    assert [(e["event"], e["actor"]) for e in audit_events(runtime)] == [("knowledge.document.added", "erin")]
    hits = runtime.retriever.search("how much does charging an electric car cost", ALL).hits
    assert hits[0].chunk.section == "Electric cars"


def test_same_content_again_changes_nothing(store, runtime):
    data = docs.pdf(docs.PARKING)
    first = store.ingest("parking.pdf", data, actor="erin")
    before = chunk_ids(store, "parking")
    again = store.ingest("parking.pdf", data, actor="frank")
    assert again.status == "unchanged" and again.version == first.version == 1
    assert chunk_ids(store, "parking") == before == chroma_ids(store, "parking")
    assert len(audit_events(runtime)) == 1
    assert store.document("parking").updated_by == "erin"


def test_a_regenerated_file_with_the_same_text_is_the_same_content(store):
    store.ingest("parking.pdf", docs.pdf(docs.PARKING), actor="erin")
    # reportlab stamps a new creation date and file id: other bytes, same document.
    assert store.ingest("parking.pdf", docs.pdf(docs.PARKING), actor="erin").status == "unchanged"


def test_new_version_replaces_old_chunks(store, runtime):
    store.ingest("parking.md", docs.markdown(docs.PARKING), actor="erin")
    changed = [(h, t.replace("0.25 EUR per kWh", "0.40 EUR per kWh")) for h, t in docs.PARKING]
    result = store.ingest("parking.md", docs.markdown(changed), actor="erin")
    assert (result.status, result.version) == ("replaced", 2)
    texts = " ".join(c.text for c in store.snapshot.chunks)
    assert "0.40 EUR" in texts and "0.25 EUR" not in texts
    assert all(i.startswith("parking:v2:") for i in chroma_ids(store, "parking"))
    assert audit_events(runtime)[-1]["event"] == "knowledge.document.replaced"
    originals = list((runtime.directory / "originals" / "parking").iterdir())
    assert [p.name for p in originals] == ["v2.md"]  # only the current original is kept


def test_readers_see_exactly_one_version_during_replacement(store, runtime):
    """A query never sees both versions, and never neither, while new versions are written."""
    def version_doc(n: int) -> bytes:
        return docs.markdown([(h, f"{t} Revision {n}.") for h, t in docs.PARKING])

    store.ingest("parking.md", version_doc(1), actor="erin")
    seen: list[set[int]] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            hits = runtime.retriever.search("parking garage badge electric charging bicycle", ALL, k=10).hits
            seen.append({h.chunk.version for h in hits if h.chunk.document_id == "parking"})

    def reads_continue(count: int) -> None:
        # Let the reader overlap every write, however the two threads happen to be scheduled.
        start = len(seen)
        deadline = time.monotonic() + 30
        while len(seen) < start + count and time.monotonic() < deadline:
            time.sleep(0.005)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(2, 6):
            reads_continue(3)
            store.ingest("parking.md", version_doc(n), actor="erin")
        reads_continue(3)
    finally:
        stop.set()
        thread.join()
    assert len(seen) >= 15
    assert all(len(versions) == 1 for versions in seen), [v for v in seen if len(v) != 1][:5]
    assert store.document("parking").version == 5


def test_changing_groups_moves_the_document(store, runtime):
    data = docs.markdown(docs.PARKING)
    store.ingest("parking.md", data, actor="erin", groups=["all-staff"])
    result = store.ingest("parking.md", data, actor="erin", groups=["facilities"])
    assert result.status == "replaced"
    assert not runtime.retriever.search("electric car charging", {"all-staff"}).hits
    assert runtime.retriever.search("electric car charging", {"facilities"}).hits


def test_delete_removes_document_chunks_and_original(store, runtime):
    store.ingest("parking.docx", docs.docx_bytes(docs.PARKING), actor="erin")
    info = store.delete("parking", actor="bob")
    assert info.id == "parking"
    assert store.registry.get("parking") is None
    assert chunk_ids(store, "parking") == [] == chroma_ids(store, "parking")
    assert not runtime.retriever.search("electric car charging", ALL).hits
    assert not (runtime.directory / "originals" / "parking").exists()
    assert audit_events(runtime)[-1]["event"] == "knowledge.document.removed"
    assert audit_events(runtime)[-1]["actor"] == "bob"
    with pytest.raises(DocumentNotFound):
        store.delete("parking", actor="bob")


def test_a_refused_file_changes_nothing(store, runtime):
    store.ingest("parking.md", docs.markdown(docs.PARKING), actor="erin")
    before = (store.documents(), chunk_ids(store, "parking"))
    for name, data in [("parking.md", b""), ("parking.pdf", docs.corrupt_pdf()), ("parking.exe", b"MZ" * 50)]:
        with pytest.raises(AssistantError):
            store.ingest(name, data, actor="erin")
    assert (store.documents(), chunk_ids(store, "parking")) == before
    assert len(audit_events(runtime)) == 1


def test_reindex_rebuilds_with_the_same_ids(store, runtime):
    store.ingest("parking.md", docs.markdown(docs.PARKING), actor="erin")
    store.ingest("guide.pdf", docs.pdf(docs.PARKING, title="Office guide"), actor="erin", groups=["engineering"])
    before = sorted((c.id, c.text, c.groups) for c in store.snapshot.chunks)
    generation = store.snapshot.generation
    assert store.reindex(actor="erin") == len(before)
    assert sorted((c.id, c.text, c.groups) for c in store.snapshot.chunks) == before
    assert store.snapshot.generation == generation + 1
    assert chroma_ids(store, "guide") == chunk_ids(store, "guide")
    assert runtime.retriever.search("bicycle room", {"engineering"}).hits[0].chunk.document_id in ("guide",
                                                                                                  "parking")


def test_reopening_the_store_loses_nothing(knowledge_base_settings, tmp_path, embedder):
    first = open_runtime(knowledge_base_settings, tmp_path, embedder, None)
    first.store.ingest("parking.html", docs.html(docs.PARKING), actor="erin")
    ids = chunk_ids(first.store, "parking")
    first.close()
    second = open_runtime(knowledge_base_settings, tmp_path, embedder, None)
    try:
        assert chunk_ids(second.store, "parking") == ids
        assert second.store.document("parking").version == 1
        assert second.retriever.search("bicycle room", ALL).hits
    finally:
        second.close()


def test_leftovers_of_an_interrupted_write_are_removed_on_load(knowledge_base_settings, tmp_path, embedder):
    first = open_runtime(knowledge_base_settings, tmp_path, embedder, None)
    first.store.ingest("parking.md", docs.markdown(docs.PARKING), actor="erin")
    acl, name = next(iter(first.store.snapshot.collections.items()))
    chunk = first.store.snapshot.chunks[0]
    # As if the service died after adding version 2's chunks but before switching to it.
    first.store.collection(name, acl).add(
        ids=["parking:v2:00000"], embeddings=[embedder.embed_one("stale")], documents=["stale"],
        metadatas=[{"document_id": "parking", "version": 2, "title": chunk.title, "section": "", "headings": "",
                    "position": 0, "content_hash": "x", "groups": acl}],
    )
    first.close()
    second = open_runtime(knowledge_base_settings, tmp_path, embedder, None)
    try:
        assert "parking:v2:00000" not in chroma_ids(second.store, "parking")
        assert all(c.version == 1 for c in second.store.snapshot.chunks)
    finally:
        second.close()

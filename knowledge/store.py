"""The knowledge store, the one writer: documents in, chunks into Chroma, snapshots out."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from knowledge import chroma
from knowledge.audit import AuditSink
from knowledge.chunking import chunk_document
from knowledge.embeddings import Embedder, StoreEmbeddingFunction
from knowledge.errors import DocumentNotFound, InvalidDocument
from knowledge.models import DOC_ID, Chunk, DocumentInfo, IngestResult, acl_key, document_id_for
from knowledge.originals import Originals
from knowledge.parsing import ParsedDocument, ParseLimits, parse_document
from knowledge.registry import Registry, now
from knowledge.snapshot import Snapshot, indexed_text

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # stage, done, total
GENERATION = "generation"


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class StoreConfig:
    collection_prefix: str = "aios-kb"
    chunk_tokens: int = 160
    chunk_overlap_tokens: int = 32
    default_groups: tuple[str, ...] = ("all-staff",)
    limits: ParseLimits = ParseLimits()


class KnowledgeStore:
    """Ingest, replace, delete and reindex documents; queries read `snapshot` without locks."""

    def __init__(self, *, client: ClientAPI, registry: Registry, originals: Originals, embedder: Embedder,
                 audit: AuditSink, config: StoreConfig) -> None:
        self.client = client
        self.registry = registry
        self.originals = originals
        self.embedder = embedder
        self.audit = audit
        self.config = config
        self._ef = StoreEmbeddingFunction(str(embedder.model_path), embedder)
        self._collections: dict[str, Collection] = {}
        self._write = threading.Lock()
        self.snapshot = Snapshot.empty(int(registry.get_state(GENERATION, "1")))
        self._seen_revision = -1
        with self.registry.exclusive(wait=False) as alone:
            # Only the writer may clear what an interrupted write left: another replica in the middle
            # of an ingest has chunks in Chroma that its registry entry does not name yet.
            self.load(cleanup=alone)

    # --- reading ----------------------------------------------------------------------------

    def collection(self, name: str, acl: str) -> Collection:
        found = self._collections.get(name)
        if found is None:
            found = chroma.open_collection(self.client, name, self._ef, acl_key=acl)
            self._collections[name] = found
        return found

    def documents(self) -> list[DocumentInfo]:
        return self.registry.all()

    def document(self, document_id: str) -> DocumentInfo:
        info = self.registry.get(document_id)
        if info is None:
            raise DocumentNotFound(f"no document {document_id!r}")
        return info

    def _name(self, generation: int, acl: str) -> str:
        return chroma.collection_name(self.config.collection_prefix, generation, acl)

    def load(self, *, cleanup: bool = True) -> None:
        """Rebuild the snapshot from the registry and Chroma; with `cleanup` (only the writer), also drop
        the leftovers of interrupted writes."""
        with self._write:
            self._load(cleanup=cleanup)

    def refresh(self) -> bool:
        """Reload when another replica changed the store since we last looked; True if it did."""
        if self.registry.revision() == self._seen_revision:
            return False
        self.load(cleanup=False)
        return True

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The store's write lock: this process's, and across replicas the registry's. A write starts
        from what the other replicas wrote before it."""
        with self._write, self.registry.exclusive():
            if self.registry.revision() != self._seen_revision:
                self._load(cleanup=False)
            yield
            self._seen_revision = self.registry.revision()

    def _load(self, *, cleanup: bool) -> None:
        self._seen_revision = self.registry.revision()
        generation = int(self.registry.get_state(GENERATION, "1"))
        docs = {d.id: d for d in self.registry.all()}
        collections = {d.acl: self._name(generation, d.acl) for d in docs.values()}
        chunks: list[Chunk] = []
        for acl, name in collections.items():
            collection = self.collection(name, acl)
            stale: list[str] = []
            for chunk in chroma.all_chunks(collection):
                doc = docs.get(chunk.document_id)
                if doc is not None and doc.version == chunk.version and doc.acl == chunk.groups:
                    chunks.append(chunk)
                else:
                    stale.append(chunk.id)
            if stale and cleanup:
                log.warning("knowledge.store.stale_chunks collection=%s count=%d", name, len(stale))
                collection.delete(ids=stale)
        if cleanup:
            self._drop_unused_collections(set(collections.values()))
        chunks.sort(key=lambda c: (c.document_id, c.position))
        self.snapshot = Snapshot.build(generation, chunks, collections)
        log.info("knowledge.store.loaded documents=%d chunks=%d generation=%d", len(docs), len(chunks),
                 generation)

    def _drop_unused_collections(self, keep: set[str]) -> None:
        prefix = f"{self.config.collection_prefix}-g"
        for collection in self.client.list_collections():
            name = collection if isinstance(collection, str) else collection.name
            if name.startswith(prefix) and name not in keep:
                log.info("knowledge.store.drop_collection name=%s", name)
                self.client.delete_collection(name)
                self._collections.pop(name, None)

    # --- writing ----------------------------------------------------------------------------

    def ingest(self, filename: str, data: bytes, *, actor: str, groups: list[str] | None = None,
               document_id: str | None = None, progress: Progress = _no_progress) -> IngestResult:
        """Add a document, or replace it by a new version, atomically for readers.

        A file with a bad type, size or content raises before anything is changed.
        """
        doc_id = document_id or document_id_for(filename)
        if not DOC_ID.match(doc_id):
            raise InvalidDocument(f"invalid document id {doc_id!r} (lower-case letters, digits and '-')",
                                  code="invalid_document_id")
        acl = acl_key(groups or list(self.config.default_groups))
        progress("parsing", 0, 1)
        parsed = parse_document(filename, data, self.config.limits)
        sha = hashlib.sha256(data).hexdigest()
        content_sha = _content_hash(parsed)
        with self._writing():
            existing = self.registry.get(doc_id)
            if existing is not None and existing.content_sha256 == content_sha and existing.acl == acl:
                progress("unchanged", 1, 1)
                return IngestResult(id=doc_id, title=existing.title, chunks=existing.chunks,
                                    version=existing.version, status="unchanged")
            version = existing.version + 1 if existing else 1
            title = _title(parsed, filename)
            chunks = self._chunks(parsed, doc_id, version, title, acl)
            vectors = self._embed(chunks, progress)
            stamp = now()
            info = DocumentInfo(
                id=doc_id, title=title, filename=filename, media_type=parsed.media_type,
                groups=acl.split(","), version=version, sha256=sha, content_sha256=content_sha, size=len(data),
                chunks=len(chunks),
                created_at=existing.created_at if existing else stamp,
                created_by=existing.created_by if existing else actor, updated_at=stamp, updated_by=actor,
            )
            saved = self.originals.save(doc_id, version, filename, data)
            self._commit(info, chunks, vectors, existing, saved, progress)
        event = "knowledge.document.replaced" if existing else "knowledge.document.added"
        self.audit.record(event, actor, {"document_id": doc_id, "title": title, "version": version,
                                         "sha256": sha, "groups": info.groups, "chunks": len(chunks),
                                         "filename": filename})
        return IngestResult(id=doc_id, title=title, chunks=len(chunks), version=version,
                            status="replaced" if existing else "created")

    def _chunks(self, parsed: ParsedDocument, doc_id: str, version: int, title: str, acl: str) -> list[Chunk]:
        drafts = chunk_document(parsed, title, self.embedder.count_tokens, size=self.config.chunk_tokens,
                                overlap=self.config.chunk_overlap_tokens)
        return [
            Chunk(id=f"{doc_id}:v{version}:{d.position:05d}", document_id=doc_id, version=version, title=title,
                  section=d.section, headings=" > ".join(d.headings), position=d.position, text=d.text,
                  content_hash=hashlib.sha256(d.text.encode()).hexdigest()[:16], groups=acl)
            for d in drafts
        ]

    def _embed(self, chunks: list[Chunk], progress: Progress) -> np.ndarray:
        done = 0
        progress("embedding", 0, len(chunks))

        def step(n: int) -> None:
            nonlocal done
            done += n
            progress("embedding", done, len(chunks))

        return self.embedder.embed([indexed_text(c) for c in chunks], progress=step)

    def _commit(self, info: DocumentInfo, chunks: list[Chunk], vectors: np.ndarray,
                existing: DocumentInfo | None, saved: Path, progress: Progress) -> None:
        """New chunks in, registry flipped, snapshot swapped, then old chunks out."""
        snap = self.snapshot
        name = self._name(snap.generation, info.acl)
        collection = self.collection(name, info.acl)
        progress("storing", 0, len(chunks))
        try:
            self._add(collection, chunks, vectors)
            collections = dict(snap.collections)
            collections[info.acl] = name
            new_snapshot = snap.replace_document(info.id, chunks, collections)
            self.registry.put(info)
        except BaseException:
            log.exception("knowledge.store.ingest_failed document=%s", info.id)
            collection.delete(ids=[c.id for c in chunks])
            saved.unlink(missing_ok=True)  # a new version always has a new file name
            raise
        self.snapshot = new_snapshot
        progress("storing", len(chunks), len(chunks))
        if existing is not None:
            self._remove_chunks(snap, existing.id)
        self.originals.prune(info.id, keep=saved)

    def _add(self, collection: Collection, chunks: list[Chunk], vectors: np.ndarray) -> None:
        batch = max(1, min(1000, self.client.get_max_batch_size()))
        for start in range(0, len(chunks), batch):
            part = chunks[start:start + batch]
            collection.add(
                ids=[c.id for c in part],
                embeddings=vectors[start:start + len(part)],
                documents=[c.text for c in part],
                metadatas=[chroma.metadata(c) for c in part],
            )

    def _remove_chunks(self, snap: Snapshot, document_id: str) -> None:
        by_acl: dict[str, list[str]] = {}
        for chunk in snap.chunks:
            if chunk.document_id == document_id:
                by_acl.setdefault(chunk.groups, []).append(chunk.id)
        for acl, ids in by_acl.items():
            self.collection(self._name(snap.generation, acl), acl).delete(ids=ids)

    def import_chunks(self, documents: list[DocumentInfo], chunks: list[Chunk], vectors: np.ndarray, *,
                      reload: bool = True) -> None:
        """Add already-embedded chunks of new documents in bulk (benchmarks, migrations).

        Readers see them after `load()` (done here unless `reload=False`, for a series of imports).
        """
        with self._writing():
            generation = self.snapshot.generation
            by_acl: dict[str, list[int]] = {}
            for i, chunk in enumerate(chunks):
                by_acl.setdefault(chunk.groups, []).append(i)
            for acl, rows in by_acl.items():
                collection = self.collection(self._name(generation, acl), acl)
                self._add(collection, [chunks[i] for i in rows], vectors[rows])
            for info in documents:
                self.registry.put(info)
        if reload:
            self.load()

    def delete(self, document_id: str, *, actor: str) -> DocumentInfo:
        with self._writing():
            info = self.document(document_id)
            snap = self.snapshot
            new_snapshot = snap.replace_document(document_id, [], dict(snap.collections))
            self.registry.remove(document_id)
            self.snapshot = new_snapshot
            self._remove_chunks(snap, document_id)
            self.originals.prune(document_id, keep=None)
        self.audit.record("knowledge.document.removed", actor, {"document_id": document_id, "title": info.title,
                                                                "version": info.version})
        return info

    def reindex(self, *, actor: str, progress: Progress = _no_progress) -> int:
        """Rebuild every chunk from the stored originals into fresh collections, then switch over."""
        with self._writing():
            old = self.snapshot
            generation = old.generation + 1
            docs = self.registry.all()
            collections: dict[str, str] = {}
            all_chunks: list[Chunk] = []
            self._drop_unused_collections(set(old.collections.values()))
            try:
                for n, doc in enumerate(docs):
                    progress("reindexing", n, len(docs))
                    data = self.originals.read(doc.id, doc.version, doc.filename)
                    parsed = parse_document(doc.filename, data, self.config.limits)
                    chunks = self._chunks(parsed, doc.id, doc.version, doc.title, doc.acl)
                    vectors = self.embedder.embed([indexed_text(c) for c in chunks])
                    name = self._name(generation, doc.acl)
                    collections[doc.acl] = name
                    self._add(self.collection(name, doc.acl), chunks, vectors)
                    if len(chunks) != doc.chunks:
                        self.registry.put(doc.model_copy(update={"chunks": len(chunks)}))
                    all_chunks.extend(chunks)
                new_snapshot = Snapshot.build(generation, all_chunks, collections)
                self.registry.set_state(GENERATION, str(generation))
            except BaseException:
                self._drop_unused_collections(set(old.collections.values()))
                raise
            self.snapshot = new_snapshot
            self._drop_unused_collections(set(collections.values()))
            progress("reindexing", len(docs), len(docs))
        self.audit.record("knowledge.reindexed", actor, {"documents": len(docs), "chunks": len(all_chunks),
                                                         "generation": generation})
        return len(all_chunks)

    def close(self) -> None:
        self.registry.close()


def _content_hash(parsed: ParsedDocument) -> str:
    """Same title, headings and text: same content, whatever the file's timestamps or metadata say."""
    h = hashlib.sha256((parsed.title or "").encode())
    for section in parsed.sections:
        h.update(b"\x00" + " > ".join(section.headings).encode() + b"\x00" + section.text.encode())
    return h.hexdigest()


def _title(parsed: ParsedDocument, filename: str) -> str:
    if parsed.title:
        return " ".join(parsed.title.split())[:200]
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem.replace("_", " ").replace("-", " ").strip().capitalize() or filename

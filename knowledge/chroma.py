"""Chroma: the client (PersistentClient under the knowledge dir, or HttpClient for a Chroma server),
one collection per set of groups, and how chunks are stored in it."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import cast
from urllib.parse import urlparse

from knowledge.embeddings import process_environment

process_environment()

import chromadb  # noqa: E402 - after the offline environment is set
from chromadb.api import ClientAPI  # noqa: E402
from chromadb.api.models.Collection import Collection  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402

from assistant.errors import ConfigurationError  # noqa: E402
from knowledge.embeddings import StoreEmbeddingFunction  # noqa: E402
from knowledge.models import Chunk  # noqa: E402

log = logging.getLogger(__name__)


def connect(*, path: Path, url: str | None) -> ClientAPI:
    """One client per process: the service is the only writer of a persistent path."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigurationError(f"AIOS_KNOWLEDGE_CHROMA_URL must be http(s)://host:port, got {url!r}")
        log.info("knowledge.chroma.http url=%s", url)
        return chromadb.HttpClient(host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 80),
                                   ssl=parsed.scheme == "https", settings=settings)
    path.mkdir(parents=True, exist_ok=True)
    log.info("knowledge.chroma.persistent path=%s", path)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def collection_name(prefix: str, generation: int, acl_key: str) -> str:
    """One collection per generation and set of groups: a query only opens what the caller may read."""
    digest = hashlib.sha256(acl_key.encode()).hexdigest()[:16]
    return f"{prefix}-g{generation}-{digest}"


def open_collection(client: ClientAPI, name: str, ef: StoreEmbeddingFunction, *, acl_key: str) -> Collection:
    return client.get_or_create_collection(
        # chromadb types the function over every embeddable input; ours embeds documents only.
        name, embedding_function=ef,  # type: ignore[arg-type]
        configuration={"hnsw": {"space": "cosine"}}, metadata={"acl": acl_key},
    )


def metadata(chunk: Chunk) -> dict[str, str | int]:
    """What Chroma stores beside a chunk's vector and text: enough to cite it and to check access."""
    return {"document_id": chunk.document_id, "version": chunk.version, "title": chunk.title,
            "section": chunk.section, "headings": chunk.headings, "position": chunk.position,
            "content_hash": chunk.content_hash, "groups": chunk.groups}


def all_chunks(collection: Collection, page: int = 5000) -> list[Chunk]:
    """Every chunk of a collection, read in pages."""
    out: list[Chunk] = []
    offset = 0
    while True:
        got = collection.get(include=["documents", "metadatas"], limit=page, offset=offset)
        for chunk_id, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True):
            out.append(Chunk(id=chunk_id, text=text or "", document_id=str(meta["document_id"]),
                             version=cast(int, meta["version"]), title=str(meta["title"]),
                             section=str(meta.get("section") or ""), headings=str(meta.get("headings") or ""),
                             position=cast(int, meta["position"]), content_hash=str(meta["content_hash"]),
                             groups=str(meta["groups"])))
        if len(got["ids"]) < page:
            return out
        offset += page

"""The Chroma client: PersistentClient under the knowledge dir, or HttpClient for a Chroma server."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from urllib.parse import urlparse

from knowledge.embeddings import offline_environment

offline_environment()

import chromadb  # noqa: E402 - after the offline environment is set
from chromadb.api import ClientAPI  # noqa: E402
from chromadb.api.models.Collection import Collection  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402

from assistant.errors import ConfigurationError  # noqa: E402
from knowledge.embeddings import StoreEmbeddingFunction  # noqa: E402

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
        name, embedding_function=ef, configuration={"hnsw": {"space": "cosine"}}, metadata={"acl": acl_key},
    )

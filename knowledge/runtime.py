"""Builds the knowledge components from settings, once per process (service, CLI, eval, bench)."""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from assistant.errors import ConfigurationError
from assistant.settings.knowledge import KnowledgeSettings
from knowledge import chroma
from knowledge.answering import AnswerConfig, Answerer
from knowledge.audit import AuditSink, build_audit
from knowledge.embeddings import Embedder, process_environment
from knowledge.llm import GenerationQueue, build_chat_model
from knowledge.originals import Originals
from knowledge.parsing import ParseLimits
from knowledge.registry import Registry, registry_url
from knowledge.retrieval import Retriever
from knowledge.store import KnowledgeStore, StoreConfig

log = logging.getLogger(__name__)


def store_config(settings: KnowledgeSettings) -> StoreConfig:
    return StoreConfig(
        collection_prefix=settings.collection_prefix,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap_tokens=settings.chunk_overlap_tokens,
        default_groups=settings.groups_default,
        limits=ParseLimits(max_bytes=settings.max_upload_bytes, max_unpacked_bytes=settings.max_unpacked_bytes,
                           max_compression_ratio=settings.max_compression_ratio, max_pages=settings.max_pages),
    )


def answer_config(settings: KnowledgeSettings) -> AnswerConfig:
    return AnswerConfig(
        top_k=settings.top_k, context_passages=settings.context_passages, prompt_passages=settings.prompt_passages,
        passage_tokens=settings.passage_tokens,
        min_relevance=settings.min_relevance, relevance_floor=settings.relevance_floor,
        min_coverage=settings.min_coverage, support_threshold=settings.support_threshold,
        max_tokens=settings.max_answer_tokens, temperature=settings.temperature,
        dont_know_contact=settings.dont_know_contact,
    )


class WriterLock:
    """One writer per store directory: the service holds it while it runs; local CLI commands try it."""

    def __init__(self, directory: Path, *, shared: bool = False) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / ".writer.lock"
        self.shared = shared
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self.shared:
            return True
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


@dataclass
class KnowledgeRuntime:
    settings: KnowledgeSettings
    directory: Path
    embedder: Embedder
    store: KnowledgeStore
    retriever: Retriever
    lock: WriterLock
    generator: GenerationQueue | None = None
    answerer: Answerer | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: KnowledgeSettings, var_dir: Path, *, embedder: Embedder | None = None,
             generator: GenerationQueue | None = None, with_model: bool = True,
             audit: AuditSink | None = None, database_url: str | None = None,
             secret_key: str = "") -> KnowledgeRuntime:
        """Everything for one store directory; refuses if another process already writes to it.

        A shared store (a Chroma server and the registry in PostgreSQL) takes no lock on the directory:
        its replicas take turns writing through the registry's lock (`Registry.exclusive`).
        """
        process_environment()
        directory = settings.data_dir(var_dir)
        shared = settings.chroma_url is not None and registry_url(database_url, directory) == database_url
        lock = WriterLock(directory, shared=shared)
        if not lock.acquire():
            raise ConfigurationError(
                f"the knowledge store {directory} is in use by another process (the knowledge service?)",
                code="store_in_use",
            )
        try:
            embedder = embedder or Embedder(settings.embedding_path(), batch_size=settings.embedding_batch_size)
            store = KnowledgeStore(
                client=chroma.connect(path=directory / "chroma", url=settings.chroma_url),
                registry=Registry.open(database_url, directory),
                originals=Originals(directory / "originals"),
                embedder=embedder,
                audit=audit or build_audit(database_url, directory / "audit.jsonl"),
                config=store_config(settings),
            )
            retriever = Retriever(store, rrf_k=settings.rrf_k)
            if with_model and generator is None:
                generator = GenerationQueue(build_chat_model(settings, secret_key=secret_key),
                                            max_waiting=settings.queue_size,
                                            timeout=settings.generation_timeout_seconds)
            answerer = Answerer(retriever, generator, answer_config(settings)) if generator else None
        except BaseException:
            lock.release()
            raise
        return cls(settings, directory, embedder, store, retriever, lock, generator, answerer)

    def close(self, *, close_generator: bool = True) -> None:
        if close_generator and self.generator is not None:
            self.generator.close()
        self.store.close()
        self.lock.release()

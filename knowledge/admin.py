"""`aios ingest` and `aios knowledge reindex`: through the running service, or locally when it is down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from tqdm import tqdm

from assistant.errors import AssistantError
from assistant.settings import Settings
from knowledge.client import KnowledgeClient
from knowledge.folder import LocalDocument
from knowledge.runtime import KnowledgeRuntime

log = logging.getLogger(__name__)


@dataclass
class IngestLine:
    path: Path
    ok: bool
    message: str


async def service_up(settings: Settings) -> bool:
    async with httpx.AsyncClient() as http:
        try:
            return (await http.get(f"{settings.knowledge.url}/healthz", timeout=2.0)).status_code == 200
        except httpx.HTTPError:
            return False


def ingest(settings: Settings, docs: list[LocalDocument], *, actor: str, show: bool = True) -> list[IngestLine]:
    """Every document in turn; a refused file is reported and the others still go in."""
    if asyncio.run(service_up(settings)):
        return asyncio.run(_ingest_remote(settings, docs, actor=actor, show=show))
    return _ingest_local(settings, docs, actor=actor, show=show)


def _line(path: Path, result: dict) -> IngestLine:
    verb = {"created": "added", "replaced": "replaced", "unchanged": "unchanged"}.get(result["status"], "done")
    return IngestLine(path, True, f"{verb}: {result['id']} v{result['version']} ({result['chunks']} chunks)")


async def _ingest_remote(settings: Settings, docs: list[LocalDocument], *, actor: str, show: bool) -> list[IngestLine]:
    out: list[IngestLine] = []
    async with httpx.AsyncClient() as http:
        client = KnowledgeClient(settings.knowledge, settings.core.secret_key.get_secret_value(), http)
        with tqdm(total=len(docs), unit="file", disable=not show, desc="ingesting (service)") as bar:
            for doc in docs:
                bar.set_postfix_str(doc.path.name)
                try:
                    _, result = await client.upload(doc.path.name, doc.path.read_bytes(), actor=actor,
                                                    groups=list(doc.groups) if doc.groups else None)
                    out.append(_line(doc.path, result))
                except AssistantError as exc:
                    out.append(IngestLine(doc.path, False, exc.message))
                bar.update(1)
    return out


def _ingest_local(settings: Settings, docs: list[LocalDocument], *, actor: str, show: bool) -> list[IngestLine]:
    runtime = KnowledgeRuntime.open(settings.knowledge, settings.core.var_dir, with_model=False,
                                    database_url=settings.core.database_url)
    out: list[IngestLine] = []
    try:
        with tqdm(total=len(docs), unit="file", disable=not show, desc="ingesting") as bar:
            for doc in docs:
                progress = _progress(bar, doc.path.name)
                try:
                    result = runtime.store.ingest(doc.path.name, doc.path.read_bytes(), actor=actor,
                                                  groups=list(doc.groups) if doc.groups else None, progress=progress)
                    out.append(_line(doc.path, result.model_dump()))
                except AssistantError as exc:
                    out.append(IngestLine(doc.path, False, exc.message))
                bar.update(1)
    finally:
        runtime.close()
    return out


def _progress(bar: tqdm, name: str) -> Callable[[str, int, int], None]:
    def update(stage: str, done: int, total: int) -> None:
        bar.set_postfix_str(f"{name}: {stage} {done}/{total}" if total > 1 else f"{name}: {stage}")

    return update


def reindex(settings: Settings, *, actor: str, show: bool = True) -> dict:
    if asyncio.run(service_up(settings)):
        async def remote() -> dict:
            async with httpx.AsyncClient() as http:
                client = KnowledgeClient(settings.knowledge, settings.core.secret_key.get_secret_value(), http)
                return await client.reindex(actor=actor)

        return asyncio.run(remote())
    runtime = KnowledgeRuntime.open(settings.knowledge, settings.core.var_dir, with_model=False,
                                    database_url=settings.core.database_url)
    try:
        with tqdm(unit="doc", disable=not show, desc="reindexing") as bar:
            def progress(stage: str, done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            chunks = runtime.store.reindex(actor=actor, progress=progress)
        return {"documents": runtime.store.registry.count(), "chunks": chunks}
    finally:
        runtime.close()

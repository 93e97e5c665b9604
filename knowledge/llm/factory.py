"""The answer model chosen by settings."""

from __future__ import annotations

from assistant.errors import ConfigurationError
from assistant.settings.knowledge import KnowledgeSettings
from knowledge.llm.base import ChatModel


def build_chat_model(settings: KnowledgeSettings) -> ChatModel:
    if settings.llm_backend == "openai":
        if not settings.openai_base_url or not settings.openai_model:
            raise ConfigurationError("the openai backend needs AIOS_KNOWLEDGE_OPENAI_BASE_URL and _OPENAI_MODEL")
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        from knowledge.llm.openai import OpenAIChat

        return OpenAIChat(settings.openai_base_url, settings.openai_model, api_key=key,
                          timeout=settings.generation_timeout_seconds)
    from knowledge.llm.llama import LlamaChat

    return LlamaChat(settings.gguf_path(), n_ctx=settings.n_ctx, n_threads=settings.threads(),
                     n_batch=settings.n_batch, seed=settings.seed)

"""The answer model chosen by settings."""

from __future__ import annotations

from assistant.errors import ConfigurationError
from assistant.settings.knowledge import KnowledgeSettings, llama_server_key
from knowledge.llm.base import ChatModel


def build_chat_model(settings: KnowledgeSettings, *, secret_key: str = "") -> ChatModel:
    if settings.llm_backend == "llama-server":
        from knowledge.llm.openai import OpenAIChat

        # The alias `aios up` gives the model; as many generations at once as the server has slots.
        return OpenAIChat(f"{settings.llama_server_url}/v1", settings.gguf_path().stem,
                          api_key=llama_server_key(secret_key) if secret_key else None,
                          timeout=settings.generation_timeout_seconds, parallel=settings.llama_server_slots)
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

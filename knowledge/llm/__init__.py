"""The answer model: llama.cpp in-process or an OpenAI-compatible server, behind one bounded queue."""

from __future__ import annotations

from knowledge.llm.base import ChatModel, Message
from knowledge.llm.factory import build_chat_model
from knowledge.llm.queue import GenerationQueue

__all__ = ["ChatModel", "GenerationQueue", "Message", "build_chat_model"]

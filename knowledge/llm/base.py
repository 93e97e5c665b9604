"""The contract every answer model implements (called from the queue's worker thread only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypedDict


class Message(TypedDict):
    role: str
    content: str


class ChatModel(Protocol):
    name: str
    #: How many generations may run at once (1 for an in-process llama.cpp model).
    parallel: int

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
               cancelled: Callable[[], bool]) -> Iterator[str]:
        """Text pieces as they are generated; stops early when `cancelled()` turns true."""
        ...

    def close(self) -> None: ...

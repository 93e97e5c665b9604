"""Reply cards with buttons, by activity id, so a click can redraw its card without the buttons."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class SentCards:
    def __init__(self, size: int = 500) -> None:
        self._cards: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._size = size

    def add(self, activity_id: str | None, card: dict[str, Any]) -> None:
        if activity_id:
            self._cards[activity_id] = card
            while len(self._cards) > self._size:
                self._cards.popitem(last=False)

    def pop(self, activity_id: str | None) -> dict[str, Any] | None:
        return self._cards.pop(activity_id, None) if activity_id else None

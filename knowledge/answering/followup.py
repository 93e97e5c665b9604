"""Follow-up questions ("and for part-timers?") are searched together with the previous question."""

from __future__ import annotations

import re

_REFERRING = re.compile(r"\b(it|its|that|this|those|these|they|them|there|same|one|ones)\b", re.IGNORECASE)
_OPENERS = ("and ", "what about", "how about", "but ", "also ", "what if", "so ", "or ", "then ")


def is_follow_up(question: str) -> bool:
    q = question.strip().lower()
    words = q.split()
    return q.startswith(_OPENERS) or len(words) <= 3 or (len(words) <= 8 and bool(_REFERRING.search(q)))


def search_query(question: str, previous_question: str | None) -> tuple[str, str | None]:
    """The text to search for, and the previous question when this one depends on it."""
    if previous_question and previous_question.strip() and is_follow_up(question):
        previous = previous_question.strip()
        return f"{previous} {question.strip()}", previous
    return question.strip(), None

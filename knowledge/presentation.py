"""An answer as people read it in every channel: its text with citations numbered 1..n in the order
they appear, and the cited sources by title (with the passage each points to)."""

from __future__ import annotations

import re
from typing import Any

from knowledge.models import Answer

_CITATION = re.compile(r"\[(\d+)\]")


def cited(answer: Answer) -> dict[str, Any]:
    """`text`, `sources` (index, document, title, section, score, chunk_id), `kind` and `model`."""
    order: list[int] = []
    for match in _CITATION.finditer(answer.text):
        n = int(match.group(1))
        if n not in order and any(c.index == n for c in answer.citations):
            order.append(n)
    new = {old: i for i, old in enumerate(order, start=1)}
    text = _CITATION.sub(lambda m: f"[{new[int(m.group(1))]}]" if int(m.group(1)) in new else "", answer.text)
    by_index = {c.index: c for c in answer.citations}
    sources = [{"index": new[old], "document_id": by_index[old].document_id, "title": by_index[old].title,
                "section": by_index[old].section, "score": by_index[old].score, "chunk_id": by_index[old].chunk_id}
               for old in order]
    # `kind` (answer, fallback, dont_know) and `model` stay in the tracker for the evaluations and
    # go with the answer into feedback; channels do not show them.
    return {"text": re.sub(r"[ \t]+", " ", text).strip(), "sources": sources, "kind": answer.kind,
            "model": answer.model}


# After "I don't know", a way on: the dialogue's intent for reporting an IT issue, as a button payload.
REPORT_IT_ISSUE = {"title": "Report an IT issue", "payload": "/report_it_issue"}


def shown(answer: Answer, question: str) -> dict[str, Any]:
    """The chat's message for `answer` (the action's reply, and the end of a streamed answer): the
    cited answer, a way on after "don't know", and the question, which the gateway records with it."""
    message = cited(answer) | {"question": question}
    if answer.kind == "dont_know":
        message["buttons"] = [dict(REPORT_IT_ISSUE)]
    return message

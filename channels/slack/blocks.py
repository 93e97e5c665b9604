"""Block Kit for the assistant's replies: text sections, table rows as fields, Rasa buttons as actions,
citations as context.

Limits (Slack's): 3000 characters per section, 50 blocks per message, 25 elements per actions
block, 10 per context block, 75 characters per button label, 2000 per button value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from channels.rendering import Message, TableRow, blocks_of
from channels.slack import mrkdwn

MAX_BLOCKS = 50
SECTION_CHARS = 3000
RASA_BUTTON = "rasa_button"  # action_id prefix; block_id carries the Slack user the buttons are for


@dataclass
class Post:
    """One Slack message: the notification `text` (escaped) and its blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        return {"text": self.text[:3000], "blocks": self.blocks}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def fields(row: TableRow) -> dict[str, Any]:
    """One table row as a section's fields (Slack shows them as a two-column grid; 10 at most)."""
    cells = row.cells[:10]
    texts = [f"*{mrkdwn.escape(h)}*\n{mrkdwn.escape(v)}"[:2000] for h, v in cells]
    if row.citation:
        texts[-1] += mrkdwn.escape(row.citation)
    items = [{"type": "mrkdwn", "verbatim": True, "text": text} for text in texts]
    return {"type": "section", "fields": items}


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t, "verbatim": True} for t in texts[:10]]}


def button(label: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": mrkdwn.plain(label, 75),
                                                     "emoji": False},
                         "action_id": action_id, "value": value[:2000]}
    if style:
        b["style"] = style
    return b


def render(messages: list[Message], *, owner: str) -> list[Post]:
    """Rasa's replies as Slack messages; a long answer becomes several sections, then several messages.

    `owner` is the Slack user the buttons are meant for (others who click are told so).
    """
    blocks: list[dict[str, Any]] = []
    texts: list[str] = []
    for message in messages:
        for part in blocks_of(message.text) if message.text else []:
            if isinstance(part, TableRow):  # a table row: its cells as fields, headings in bold
                blocks.append(fields(part))
                texts.append(mrkdwn.escape("; ".join(f"{h}: {v}" for h, v in part.cells)))
                continue
            body = mrkdwn.from_markdown(part)
            if body:
                pieces = mrkdwn.split(body, SECTION_CHARS)
                blocks += [section(p) for p in pieces]
                texts.append(pieces[0])
        if message.sources:
            cites = [mrkdwn.escape(f"[{s.index}] " if s.index is not None else "") + "*"
                     + mrkdwn.escape(s.title) + "*" + (f" › {mrkdwn.escape(s.section)}" if s.section else "")
                     for s in message.sources]
            for i in range(0, len(cites), 10):
                blocks.append(context(*cites[i:i + 10]))
        valid = [b for b in message.buttons if b.payload and len(b.payload) <= 2000]
        for i in range(0, len(valid), 25):
            blocks.append({
                "type": "actions", "block_id": f"rasa:{owner}:{len(blocks)}",
                "elements": [button(b.title or b.payload, f"{RASA_BUTTON}_{i + j}", b.payload)
                             for j, b in enumerate(valid[i:i + 25])],
            })
    if not blocks:
        return []
    text = "\n".join(texts) or "The assistant replied"
    return [Post(text=text if n == 0 else "(continued)", blocks=blocks[i:i + MAX_BLOCKS])
            for n, i in enumerate(range(0, len(blocks), MAX_BLOCKS))]


def chosen(blocks: list[dict[str, Any]], *, who: str, title: str) -> list[dict[str, Any]]:
    """The clicked message without its Rasa buttons, saying what was chosen (no second click)."""
    kept = [b for b in blocks if not (b.get("type") == "actions" and str(b.get("block_id", "")).startswith("rasa:"))]
    return kept + [context(f"{mrkdwn.escape(who)} chose *{mrkdwn.escape(title)}*")]


def placeholder() -> Post:
    return Post(text="Working on it…", blocks=[context("_Working on it…_")])


def button_value(approval_id: str, params_hash: str) -> str:
    return json.dumps({"a": approval_id, "h": params_hash}, separators=(",", ":"))


def parse_button_value(value: str) -> tuple[str, str] | None:
    try:
        data = json.loads(value)
        return str(data["a"]), str(data["h"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return None

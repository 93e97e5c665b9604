"""Text for Slack's mrkdwn: escaped so no model or document text can ping people or hide a link.

Slack turns `<!channel>`, `<@U123>`, `<!subteam^S1>` and `<https://x|label>` into pings and
disguised links; escaping `&`, `<` and `>` makes all of them inert. A zero-width space after `@`
in `@channel`, `@here` and `@everyone` keeps those words from notifying anyone as well.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)
_FENCE = "```"


def escape(text: str) -> str:
    """Plain text made safe for a mrkdwn field (also right for `text` fallbacks)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)


def from_markdown(text: str) -> str:
    """The assistant's light Markdown (**bold**, # headings) as mrkdwn, escaped. Links stay literal text."""
    text = escape(text)
    text = _BOLD.sub(r"*\1*", text)
    return _HEADING.sub(r"*\1*", text)


def plain(text: str, limit: int) -> str:
    """For plain_text fields (button labels, headers): no markup is parsed there, only the length counts."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split(text: str, limit: int = 3000) -> list[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, line, sentence or word boundary.

    `text` is already mrkdwn: an entity such as `&amp;` is never cut, and a code block cut in two is
    closed at the end of one piece and reopened at the start of the next.
    """
    pieces: list[str] = []
    rest = text.strip()
    reopen = False
    while rest:
        head = (_FENCE + "\n" if reopen else "")
        room = limit - len(head) - len(_FENCE) - 1  # keep space to close a fence
        if len(head) + len(rest) <= limit:
            piece, rest = head + rest, ""
        else:
            cut = _cut_point(rest, room)
            piece, rest = head + rest[:cut].rstrip(), rest[cut:].lstrip("\n ")
        open_fence = piece.count(_FENCE) % 2 == 1
        if open_fence and rest:
            piece += "\n" + _FENCE
        reopen = open_fence and bool(rest)
        if piece.strip():
            pieces.append(piece)
    return pieces or [""]


def _cut_point(text: str, room: int) -> int:
    window = text[:room]
    for sep in ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " "):
        at = window.rfind(sep)
        if at > room // 3:
            cut = at + len(sep.rstrip()) if sep.strip() else at
            return _not_inside_entity(text, cut)
    return _not_inside_entity(text, room)


def _not_inside_entity(text: str, cut: int) -> int:
    amp = text.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and ";" not in text[amp:cut] and re.match(r"&(amp|lt|gt);", text[amp:amp + 5]):
        return amp
    return cut

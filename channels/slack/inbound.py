"""What a person typed in Slack, as plain text for Rasa: mentions, links and entities decoded."""

from __future__ import annotations

import re

from assistant.directory import Directory

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_SPECIAL = re.compile(r"<![^>]*>")


def to_plain(text: str, directory: Directory, *, bot_user_id: str | None = None) -> str:
    """`<@U0AL1CE01> hi <https://x|docs>` -> `alice hi docs`; the bot's own mention is dropped."""

    def user(m: re.Match) -> str:
        if bot_user_id and m.group(1) == bot_user_id:
            return ""
        person = directory.by_channel_id("slack", m.group(1))
        return person.id if person else "someone"

    text = _USER.sub(user, text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub("", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()
